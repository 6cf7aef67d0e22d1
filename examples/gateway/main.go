// Command gateway reproduces scenario 3 of reportgen's SCENARIOS.md: an HTTP
// gateway whose CPU and allocations go to decoding JSON into
// map[string]interface{}, marshalling a payload nobody reads and logging
// through fmt.Sprintf. It serves one handler variant (-mode), drives load
// against itself over real TCP connections for -duration, and writes the
// runtime/pprof profiles of that run into -out.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mode := flag.String("mode", "before", "handler variant to serve: before or after")
	duration := flag.Duration("duration", 3*time.Second, "how long to drive load; also the CPU profile's length")
	clients := flag.Int("clients", 8, "concurrent client goroutines")
	out := flag.String("out", ".", "directory to write the .pb.gz profiles into")
	flag.Parse()
	// A run of a few seconds at the default rate (one sample per 512 KiB)
	// leaves the in-use heap nearly empty; sample more densely.
	runtime.MemProfileRate = 64 << 10
	log.SetFlags(0)
	log.SetPrefix("gateway: ")

	handler, err := handlerFor(*mode)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := run(handler, *duration, *clients, *out); err != nil {
		log.Fatal(err)
	}
}

func run(handler http.Handler, duration time.Duration, clients int, dir string) error {
	// Record every blocking event and every contended unlock: the run is
	// short, and the profiles are examples, not production settings.
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/orders", handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)

	cpu, err := os.Create(filepath.Join(dir, "cpu.pb.gz"))
	if err != nil {
		return err
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return err
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	load := startLoad(ctx, "http://"+ln.Addr().String()+"/v1/orders", clients)
	time.Sleep(duration)

	// The goroutine and heap snapshots are taken while requests are still
	// in flight, so they show what a live gateway holds: connections, their
	// goroutines and buffers, requests being decoded.
	if err := writeProfile(dir, "goroutine"); err != nil {
		return err
	}
	pprof.StopCPUProfile()
	// Collect first so the in-use figures describe live memory rather than
	// garbage the last cycle had not yet swept.
	runtime.GC()
	if err := writeHeap(dir); err != nil {
		return err
	}
	stop()
	served, err := load.wait()
	if err != nil {
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gateway: %d requests in %v (%.0f req/s)\n",
		served, duration, float64(served)/duration.Seconds())

	for _, name := range []string{"allocs", "block", "mutex", "threadcreate"} {
		if err := writeProfile(dir, name); err != nil {
			return err
		}
	}
	return cpu.Close()
}

// load is a set of client goroutines posting orders until their context ends.
type load struct {
	wg     sync.WaitGroup
	served atomic.Int64
	mu     sync.Mutex
	err    error
}

func startLoad(ctx context.Context, url string, clients int) *load {
	l := &load{}
	// One shared client with enough idle connections for every worker, as a
	// well-behaved caller would have; otherwise the profiles would be about
	// connection churn instead of the handler.
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
	}}
	bodies := sampleOrders()
	for i := range clients {
		l.wg.Go(func() {
			if err := l.drive(ctx, client, url, bodies, i); err != nil {
				l.mu.Lock()
				l.err = errors.Join(l.err, err)
				l.mu.Unlock()
			}
		})
	}
	return l
}

func (l *load) drive(ctx context.Context, client *http.Client, url string, bodies [][]byte, seed int) error {
	for n := seed; ctx.Err() == nil; n++ {
		resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[n%len(bodies)]))
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST %s: %s", url, resp.Status)
		}
		l.served.Add(1)
	}
	return nil
}

func (l *load) wait() (int64, error) {
	l.wg.Wait()
	return l.served.Load(), l.err
}

func writeHeap(dir string) error {
	f, err := os.Create(filepath.Join(dir, "heap.pb.gz"))
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeProfile writes a named runtime profile as gzipped protobuf (debug=0).
func writeProfile(dir, name string) error {
	p := pprof.Lookup(name)
	if p == nil {
		return fmt.Errorf("no %s profile in this runtime", name)
	}
	f, err := os.Create(filepath.Join(dir, name+".pb.gz"))
	if err != nil {
		return err
	}
	if err := p.WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
