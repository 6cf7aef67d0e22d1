// Command biggen writes an execution trace whose events fall in one large
// generation, to measure the trace reader's peak memory per generation.
// Run it with GODEBUG=traceadvanceperiod=2000000000 (Go cuts a generation
// every period; 2 s is the most the int32 setting allows) and a duration
// under that: pairs of goroutines hand a value back and forth on unbuffered
// channels (GoBlock, GoUnblock, GoStart per hand-off), and some allocate so
// the GC runs too.
// Usage: GODEBUG=traceadvanceperiod=2000000000 biggen OUT.trace [milliseconds]
package main

import (
	"os"
	"runtime/trace"
	"strconv"
	"sync"
	"time"
)

var sink []byte

func main() {
	ms := 1500
	if len(os.Args) > 2 {
		ms, _ = strconv.Atoi(os.Args[2])
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	trace.Start(f)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		a, b := make(chan int), make(chan int)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-done:
					close(a)
					return
				case a <- n:
				}
				<-b
				if n%64 == 0 {
					sink = make([]byte, 1<<10)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for v := range a {
				b <- v
			}
		}()
	}
	time.Sleep(time.Duration(ms) * time.Millisecond)
	close(done)
	wg.Wait()
	trace.Stop()
	f.Close()
}
