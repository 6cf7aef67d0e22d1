// Command gcmmu writes an execution trace of a program under GC pressure (for
// tests/test_trace_mmu_differential.py): four goroutines allocate short-lived
// 16 KiB buffers against a churning live heap for about 300 ms with
// GOMAXPROCS=4, so the collector runs many cycles with mark assists, background
// mark workers (restarted again and again) and stop-the-world pauses.
package main

import (
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"time"
)

var live [][]byte

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	runtime.GOMAXPROCS(4)
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(300 * time.Millisecond)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; time.Now().Before(deadline); j++ {
				b := make([]byte, 16<<10)
				b[0] = byte(j)
				if j%64 == 0 {
					mu.Lock()
					live = append(live, b)
					if len(live) > 2000 {
						live = live[1000:]
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	trace.Stop()
	if err := f.Close(); err != nil {
		panic(err)
	}
}
