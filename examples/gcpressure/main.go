// Command gcpressure renders log records the way a busy service does, so that
// GODEBUG=gctrace=1 shows what garbage costs (scenario 7 of the design notes).
//
// Before the fix (-fixed=false) every record builds its line with
// fmt.Sprintf into a fresh buffer and copies it into a new string: a few KiB
// of garbage per record against a small live heap, so the collector runs
// hundreds of times a second. After (-fixed) one buffer per worker is reused.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
)

type record struct {
	ID     int
	Host   string
	Path   string
	Status int
	Took   time.Duration
	Tags   []string
}

// window is the live heap: the most recent records, as a service keeps them
// for its status page.
type window struct {
	mu   sync.Mutex
	recs []string
	next int
}

func (w *window) keep(s string) {
	w.mu.Lock()
	w.recs[w.next] = s
	w.next = (w.next + 1) % len(w.recs)
	w.mu.Unlock()
}

// renderSlow is the code before the fix: a Sprintf per field, a new buffer
// per record and a copy into a string.
func renderSlow(r record) string {
	var b bytes.Buffer
	b.WriteString(fmt.Sprintf("id=%d ", r.ID))
	b.WriteString(fmt.Sprintf("host=%s ", r.Host))
	b.WriteString(fmt.Sprintf("path=%s ", r.Path))
	b.WriteString(fmt.Sprintf("status=%d ", r.Status))
	b.WriteString(fmt.Sprintf("took=%s", r.Took))
	for _, t := range r.Tags {
		b.WriteString(fmt.Sprintf(" tag=%q", t))
	}
	pad := make([]byte, 2048) // the old code reserved room for a stack trace
	b.Write(pad[:0])
	return b.String()
}

// renderFast is the fix: strconv into a reused buffer.
func renderFast(buf []byte, r record) []byte {
	buf = append(buf[:0], "id="...)
	buf = strconv.AppendInt(buf, int64(r.ID), 10)
	buf = append(buf, " host="...)
	buf = append(buf, r.Host...)
	buf = append(buf, " path="...)
	buf = append(buf, r.Path...)
	buf = append(buf, " status="...)
	buf = strconv.AppendInt(buf, int64(r.Status), 10)
	buf = append(buf, " took="...)
	buf = append(buf, r.Took.String()...)
	for _, t := range r.Tags {
		buf = append(buf, " tag="...)
		buf = strconv.AppendQuote(buf, t)
	}
	return buf
}

func main() {
	fixed := flag.Bool("fixed", false, "reuse one buffer per worker")
	seconds := flag.Float64("seconds", 3, "how long to run")
	workers := flag.Int("workers", 4, "goroutines rendering records")
	allocs := flag.String("allocprofile", "", "write the allocs profile here at the end")
	flag.Parse()

	w := &window{recs: make([]string, 2000)}
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for g := 0; g < *workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			buf := make([]byte, 0, 512)
			n := 0
			for i := g; time.Now().Before(deadline); i += *workers {
				r := record{ID: i, Host: "api-" + strconv.Itoa(i%7), Path: "/v1/items",
					Status: 200 + i%3, Took: time.Duration(i%997) * time.Microsecond,
					Tags: []string{"edge", "eu-west"}}
				if *fixed {
					buf = renderFast(buf, r)
					if i%64 == 0 {
						w.keep(string(buf))
					}
				} else {
					s := renderSlow(r)
					if i%64 == 0 {
						w.keep(s)
					}
				}
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	fmt.Fprintf(io.Discard, "%d", total)
	fmt.Fprintf(os.Stdout, "rendered %d records\n", total)
	if *allocs != "" {
		f, err := os.Create(*allocs)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			panic(err)
		}
	}
}
