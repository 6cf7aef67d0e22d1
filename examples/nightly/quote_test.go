package main

import "testing"

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
	c := NewCatalog(2000)
	orders := make([]string, 64)
	for k := range orders {
		orders[k] = Order(c, k, 8)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q, err := Quote(c, orders[i%len(orders)])
		if err != nil {
			b.Fatal(err)
		}
		sink += q
	}
}

// BenchmarkParseOrder parses the same orders without pricing them: it does
// not touch the lookup and should stay flat every night.
func BenchmarkParseOrder(b *testing.B) {
	c := NewCatalog(2000)
	orders := make([]string, 64)
	for k := range orders {
		orders[k] = Order(c, k, 8)
	}
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
