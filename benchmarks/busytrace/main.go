// Command busytrace writes the execution trace the trace benchmark reads:
// a busy service for a few seconds (HTTP on loopback, a contended mutex,
// channel pipelines, allocation-heavy work that keeps the GC running).
// Usage: busytrace OUT.trace [seconds]
package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"runtime/trace"
	"strconv"
	"sync"
	"time"
)

var (
	mu    sync.Mutex
	table = map[int][]byte{}
)

func handler(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 4<<10)
	mu.Lock()
	table[len(table)%1000] = buf
	mu.Unlock()
	time.Sleep(200 * time.Microsecond)
	w.Write(buf[:64])
}

func main() {
	secs := 4
	if len(os.Args) > 2 {
		secs, _ = strconv.Atoi(os.Args[2])
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go http.Serve(ln, http.HandlerFunc(handler))
	url := "http://" + ln.Addr().String()
	trace.Start(f)
	stop := time.After(time.Duration(secs) * time.Second)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ { // HTTP clients
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				resp, err := http.Get(url)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	jobs := make(chan []byte, 16)
	for i := 0; i < 8; i++ { // a pipeline
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				s := 0
				for _, c := range b {
					s += int(c)
				}
				_ = s
			}
		}()
	}
	go func() {
		for {
			select {
			case <-done:
				close(jobs)
				return
			case jobs <- make([]byte, 16<<10):
			}
		}
	}()
	<-stop
	close(done)
	wg.Wait()
	trace.Stop()
	f.Close()
}
