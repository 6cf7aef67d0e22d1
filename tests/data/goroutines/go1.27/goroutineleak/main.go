// Captures a goroutineleak profile (Go 1.26+; no GOEXPERIMENT needed in Go 1.27):
// 30 of 40 fetch workers block forever sending on a channel their caller dropped;
// 5 waiters block on a channel a global keeps reachable, so they are not leaked.
// Run: go run -trimpath . (writes goroutineleak.pb.gz, goroutineleak-debug1.txt and
// goroutine.pb.gz here).
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// fetch starts a worker that sends its result on a channel nobody keeps:
// when the caller gives up, the worker blocks forever on an unreachable channel.
func fetch(i int) {
	ch := make(chan int)
	go worker(ch, i)
	if i%4 == 0 {
		<-ch
	}
}

func worker(ch chan int, i int) {
	time.Sleep(time.Millisecond)
	ch <- i
}

// waiter blocks on a channel that is still reachable (a global): not leaked.
var keep = make(chan int)

func waiter() { <-keep }

func main() {
	for i := 0; i < 40; i++ {
		fetch(i)
	}
	for i := 0; i < 5; i++ {
		go waiter()
	}
	time.Sleep(50 * time.Millisecond)
	runtime.GC()
	for _, d := range []int{0, 1} {
		name := "goroutineleak.pb.gz"
		if d == 1 {
			name = "goroutineleak-debug1.txt"
		}
		f, _ := os.Create(name)
		pprof.Lookup("goroutineleak").WriteTo(f, d)
		f.Close()
	}
	f, _ := os.Create("goroutine.pb.gz")
	pprof.Lookup("goroutine").WriteTo(f, 0)
	f.Close()
}
