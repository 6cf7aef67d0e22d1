// Command nightly is the service of reportgen's nightly example
// (SCENARIOS.md, scenario 5): a quote service whose workers price orders
// against a catalog in a loop. One run writes the evidence a nightly CI job
// would capture into -out: a CPU profile of the loop, a heap profile and a
// goroutine dump (debug=2).
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

func main() {
	duration := flag.Duration("duration", time.Second, "how long the service loop runs; also the CPU profile's length")
	workers := flag.Int("workers", 2, "worker goroutines pricing orders")
	out := flag.String("out", ".", "directory to write the evidence into")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("nightly: ")
	runtime.MemProfileRate = 64 << 10 // a short run: sample the heap more densely
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := run(*duration, *workers, *out); err != nil {
		log.Fatal(err)
	}
}

func run(duration time.Duration, workers int, dir string) error {
	cat := NewCatalog(2000)
	cpu, err := os.Create(filepath.Join(dir, "cpu.pb.gz"))
	if err != nil {
		return err
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return err
	}
	ctx, stop := context.WithTimeout(context.Background(), duration)
	defer stop()
	orders := make(chan string, 64)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve(cat, orders)
		}()
	}
	go produce(ctx, cat, orders)
	<-ctx.Done()
	// The dump is taken while the workers are busy, as a CI job would.
	if err := writeProfile(dir, "goroutine.txt", "goroutine", 2); err != nil {
		return err
	}
	wg.Wait()
	pprof.StopCPUProfile()
	runtime.GC()
	return writeProfile(dir, "heap.pb.gz", "heap", 0)
}

// produce feeds the same 256 orders round and round until ctx ends, then
// closes the queue. They are built once, so the profile shows the workers'
// cost, not the producer's: a producer that works more when the workers are
// faster would move the shares for reasons of throughput alone.
func produce(ctx context.Context, cat *Catalog, orders chan<- string) {
	defer close(orders)
	batch := make([]string, 256)
	for k := range batch {
		batch[k] = Order(cat, k, 8)
	}
	for k := 0; ; k++ {
		select {
		case orders <- batch[k%len(batch)]:
		case <-ctx.Done():
			return
		}
	}
}

// serve prices orders until the queue closes; the last few quotes are kept,
// like a small response cache.
func serve(cat *Catalog, orders <-chan string) {
	recent := make([]int, 0, 128)
	for o := range orders {
		q, err := Quote(cat, o)
		if err != nil {
			log.Print(err)
			continue
		}
		if len(recent) == cap(recent) {
			recent = recent[:0]
		}
		recent = append(recent, q)
	}
}

func writeProfile(dir, file, name string, debug int) error {
	f, err := os.Create(filepath.Join(dir, file))
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, debug); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
