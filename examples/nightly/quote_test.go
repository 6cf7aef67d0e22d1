package main

import (
	"syscall"
	"testing"
	"time"
)

var sink int

func TestQuote(t *testing.T) {
	c := NewCatalog(10)
	got, err := Quote(c, "SKU-000001x2,SKU-000003x1,SKU-999999x4")
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*101 + 103; got != want {
		t.Fatalf("Quote = %d, want %d", got, want)
	}
	if _, err := Quote(c, "SKU-000001"); err == nil {
		t.Fatal("no error for a line without a quantity")
	}
}

// BenchmarkQuote prices one 8-line order against a 2000-item catalog: the
// lookup's cost shows here.
func BenchmarkQuote(b *testing.B) {
	c, orders := benchOrders()
	b.ReportAllocs()
	start := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q, err := Quote(c, orders[i%len(orders)])
		if err != nil {
			b.Fatal(err)
		}
		sink += q
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// benchOrders is a 2000-item catalog and 64 orders of 8 lines against it.
func benchOrders() (*Catalog, []string) {
	c := NewCatalog(2000)
	orders := make([]string, 64)
	for k := range orders {
		orders[k] = Order(c, k, 8)
	}
	return c, orders
}

// cpuTime is the CPU time the process has used. On a shared CI machine the
// wall time (ns/op) also counts the waits for a core; the CPU time per
// operation (cpu-ns/op) counts only the work, so it is much less noisy.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkParseOrder parses the same orders without pricing them: it does
// not touch the lookup and should stay flat every night.
func BenchmarkParseOrder(b *testing.B) {
	_, orders := benchOrders()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lines, err := ParseOrder(orders[i%len(orders)])
		if err != nil {
			b.Fatal(err)
		}
		sink += len(lines)
	}
}
