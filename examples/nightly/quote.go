package main

import (
	"strconv"
	"strings"
)

// lookupMode picks how Quote finds an item in the catalog. The capture
// script sets it with -ldflags "-X main.lookupMode=canonical" (in tests:
// example.com/nightly.lookupMode) for the nights on
// which a (simulated) commit made every lookup canonicalise its SKU first, the
// regression the nightly pages have to catch.
var lookupMode = "index"

// Item is one catalog entry.
type Item struct {
	SKU   string
	Price int // cents
}

// Catalog holds the items by position and an index from SKU to position.
type Catalog struct {
	items []Item
	index map[string]int
}

// NewCatalog builds a catalog of n items with SKUs like "SKU-000042".
func NewCatalog(n int) *Catalog {
	c := &Catalog{items: make([]Item, n), index: make(map[string]int, n)}
	for i := range c.items {
		sku := "SKU-" + pad6(i)
		c.items[i] = Item{SKU: sku, Price: 100 + i%997}
		c.index[sku] = i
	}
	return c
}

func pad6(i int) string {
	s := strconv.Itoa(i)
	return strings.Repeat("0", 6-len(s)) + s
}

// Lookup returns the position of sku, or -1.
func (c *Catalog) Lookup(sku string) int {
	if lookupMode == "canonical" {
		sku = canonicalSKU(sku)
	}
	if i, ok := c.index[sku]; ok {
		return i
	}
	return -1
}

// canonicalSKU is the slower code path: it rebuilds every SKU upper-case,
// without blanks, from its prefix and number — one string concatenation and
// one strconv round trip per part — though every SKU the service sees is
// canonical already.
//
//go:noinline
func canonicalSKU(sku string) string {
	prefix, number, ok := strings.Cut(strings.TrimSpace(sku), "-")
	if !ok {
		return sku
	}
	n, err := strconv.Atoi(number)
	if err != nil {
		return sku
	}
	var b []byte
	for i := 0; i < len(prefix); i++ {
		x := prefix[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		b = append(b, x)
	}
	return string(b) + "-" + pad6(n)
}

// Line is one line of an order.
type Line struct {
	SKU string
	Qty int
}

// ParseOrder reads "SKU-000001x3,SKU-000007x1" into lines.
func ParseOrder(text string) ([]Line, error) {
	parts := strings.Split(text, ",")
	lines := make([]Line, 0, len(parts))
	for _, p := range parts {
		sku, qty, ok := strings.Cut(p, "x")
		if !ok {
			return nil, strconv.ErrSyntax
		}
		n, err := strconv.Atoi(qty)
		if err != nil {
			return nil, err
		}
		lines = append(lines, Line{SKU: sku, Qty: n})
	}
	return lines, nil
}

// Quote prices an order: the sum of price times quantity, in cents.
func Quote(c *Catalog, text string) (int, error) {
	lines, err := ParseOrder(text)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, l := range lines {
		i := c.Lookup(l.SKU)
		if i < 0 {
			continue
		}
		total += c.items[i].Price * l.Qty
	}
	return total, nil
}

// Order returns a deterministic order text of n lines, the k-th of a series.
func Order(c *Catalog, k, n int) string {
	var b strings.Builder
	for j := 0; j < n; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		it := c.items[(k*7919+j*104729)%len(c.items)]
		b.WriteString(it.SKU)
		b.WriteByte('x')
		b.WriteString(strconv.Itoa(1 + (k+j)%5))
	}
	return b.String()
}
