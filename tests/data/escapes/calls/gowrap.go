package calls

import (
	"fmt"
	"sync"
)

var mu sync.Mutex

//go:noinline
func record(id int, name string) { mu.Lock(); _, _ = id, name; mu.Unlock() }

func logf(format string, args ...interface{}) { _ = fmt.Sprintf(format, args...) }

// Spawn starts goroutines with arguments, and one closure that captures a counter.
func Spawn(n int, name string) int {
	var wg sync.WaitGroup
	count := 0
	for i := 0; i < n; i++ {
		wg.Add(3)
		go logf("worker %d %s", i, name)
		go record(i, name)
		go func() {
			defer wg.Done()
			mu.Lock()
			count++
			mu.Unlock()
		}()
		wg.Done()
		wg.Done()
	}
	wg.Wait()
	return count
}

// Deferred prints with a defer in a loop: its arguments are boxed into ...any.
func Deferred(n int) {
	for i := 0; i < n; i++ {
		defer fmt.Sprint("done ", i)
	}
}
