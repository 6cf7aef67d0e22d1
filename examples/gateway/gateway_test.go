package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// benchHandler picks the variant from GATEWAY_MODE so both runs report the
// same benchmark name and benchstat (or reportgen) can pair them up.
func benchHandler(tb testing.TB) http.HandlerFunc {
	mode := os.Getenv("GATEWAY_MODE")
	if mode == "" {
		mode = "before"
	}
	h, err := handlerFor(mode)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func serve(h http.HandlerFunc, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/orders", bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

func TestHandlersAgree(t *testing.T) {
	for _, body := range sampleOrders() {
		before, after := serve(handleBefore, body), serve(handleAfter, body)
		if before.Code != http.StatusOK || after.Code != http.StatusOK {
			t.Fatalf("status before=%d after=%d", before.Code, after.Code)
		}
		if !bytes.Equal(before.Body.Bytes(), after.Body.Bytes()) {
			t.Errorf("replies differ:\nbefore %s\nafter  %s", before.Body, after.Body)
		}
	}
}

func BenchmarkHandler(b *testing.B) {
	h := benchHandler(b)
	bodies := sampleOrders()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if rec := serve(h, bodies[n%len(bodies)]); rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		n++
	}
}
