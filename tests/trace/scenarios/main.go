// Small programs whose execution traces the differential tests compare
// against go tool trace. Usage: scenarios MODE OUT.trace
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"sync"
	"time"
)

var sink [][]byte

func lockContention() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	n := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				mu.Lock()
				n++
				time.Sleep(20 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func loopbackHTTP() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * time.Millisecond)
		io.WriteString(w, "ok")
	})}
	go srv.Serve(ln)
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get("http://" + ln.Addr().String())
			if err == nil {
				io.ReadAll(resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	srv.Close()
}

func fileSyscalls() {
	dir, _ := os.MkdirTemp("", "scen")
	defer os.RemoveAll(dir)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				p := filepath.Join(dir, fmt.Sprintf("f%d-%d", i, j))
				os.WriteFile(p, make([]byte, 64<<10), 0o644)
				f, _ := os.Open(p)
				f.Sync()
				io.ReadAll(f)
				f.Close()
			}
		}(i)
	}
	wg.Wait()
}

func runnable() {
	runtime.GOMAXPROCS(2)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := time.Now().Add(30 * time.Millisecond)
			x := 0
			for time.Now().Before(end) {
				x++
			}
		}()
	}
	wg.Wait()
}

func channels() {
	ch := make(chan int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case v := <-ch:
					_ = v
					time.Sleep(50 * time.Microsecond)
				case <-done:
					return
				}
			}
		}()
	}
	for i := 0; i < 500; i++ {
		ch <- i
	}
	close(done)
	wg.Wait()
}

func gcPressure() {
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1200; j++ {
				b := make([]byte, 32<<10)
				if j%100 == 0 {
					sink = append(sink, b)
				}
			}
		}()
	}
	wg.Wait()
	runtime.GC()
}

func tasksRegions() {
	ctx, task := trace.NewTask(context.Background(), "batch")
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sub, t := trace.NewTask(ctx, "item")
			defer t.End()
			trace.WithRegion(sub, "fetch", func() { time.Sleep(time.Millisecond) })
			trace.WithRegion(sub, "compute", func() {
				x := 0
				for k := 0; k < 200000; k++ {
					x += k
				}
				trace.Logf(sub, "result", "item %d sum %d", i, x)
			})
		}(i)
	}
	wg.Wait()
	task.End()
}

// Names a report must show as text: markup in region, task and log strings,
// right-to-left letters in a function name (Go allows them in identifiers).
func hostile() {
	ctx, task := trace.NewTask(context.Background(), "<script>alert('task')</script>")
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go עבודה(ctx, &wg)
	}
	wg.Wait()
	task.End()
}

func עבודה(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	trace.WithRegion(ctx, "<img src=x onerror=alert(1)>\u202e{{ 7*7 }}", func() {
		time.Sleep(time.Millisecond)
		trace.Log(ctx, "<b>category</b>", "</script><script>alert('log')</script>")
	})
}

// Strings a report must show readably: control characters (NUL, ESC, a C1
// control) in a user log, a region and a task with an empty name.
func oddNames() {
	ctx, task := trace.NewTask(context.Background(), "")
	trace.WithRegion(ctx, "", func() {
		time.Sleep(time.Millisecond)
		trace.Log(ctx, "cat\x00egory", "nul \x00 esc \x1b[31m c1 \u0085 tab \t end")
	})
	trace.WithRegion(ctx, "named", func() { time.Sleep(time.Millisecond) })
	task.End()
}

// A quiet program that runs past the runtime's one-second generation
// boundary, so its trace has more than one generation.
func generations() {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 13; i++ {
		<-tick.C
	}
}

func main() {
	f, err := os.Create(os.Args[2])
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	switch os.Args[1] {
	case "lock":
		lockContention()
	case "http":
		loopbackHTTP()
	case "files":
		fileSyscalls()
	case "runnable":
		runnable()
	case "channels":
		channels()
	case "gc":
		gcPressure()
	case "regions":
		tasksRegions()
	case "hostile":
		hostile()
	case "oddnames":
		oddNames()
	case "generations":
		generations()
	default:
		panic("unknown mode " + os.Args[1])
	}
	trace.Stop()
	f.Close()
}
