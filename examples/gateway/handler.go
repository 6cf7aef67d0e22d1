package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// Both handlers serve POST /v1/orders: read an order, total it, log one
// access line and answer with a small JSON acknowledgement. handleBefore is
// the gateway as the performance write-up found it; handleAfter is the
// same API once the waste was removed. The replies are byte-identical
// (TestHandlersAgree), so the profiles compare like with like.

// orderRequest declares only what the gateway reads; encoding/json skips
// the rest of the document without building values for it.
type orderRequest struct {
	RequestID string      `json:"request_id"`
	User      string      `json:"user"`
	Items     []orderItem `json:"items"`
}

type orderItem struct {
	SKU      string  `json:"sku"`
	Quantity int     `json:"qty"`
	Price    float64 `json:"price"`
}

// orderReply's field order matches the sorted keys json.Marshal gives the
// map in handleBefore.
type orderReply struct {
	Items     int     `json:"items"`
	RequestID string  `json:"request_id"`
	Status    string  `json:"status"`
	Total     float64 `json:"total"`
}

// logSink stands in for the gateway's log file: one buffered writer shared
// by every request, so its lock is where concurrent handlers meet.
type logSink struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newLogSink() *logSink {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		// No /dev/null: keep the locking and buffering, drop the syscalls.
		return &logSink{w: bufio.NewWriter(io.Discard)}
	}
	return &logSink{w: bufio.NewWriter(f)}
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

var (
	sink      = newLogSink()
	accessLog = log.New(sink, "gateway ", log.LstdFlags|log.Lmicroseconds)
)

func badRequest(w http.ResponseWriter, err error) {
	http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
}

func handleBefore(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		badRequest(w, err)
		return
	}
	var req map[string]interface{}
	if err := json.Unmarshal(body, &req); err != nil {
		badRequest(w, err)
		return
	}

	// Meant for an audit trail that was never wired up: nothing reads it.
	audit, err := json.Marshal(req)
	if err != nil {
		badRequest(w, err)
		return
	}
	_ = audit

	id, _ := req["request_id"].(string)
	user, _ := req["user"].(string)
	items, _ := req["items"].([]interface{})
	var total float64
	for _, it := range items {
		item, _ := it.(map[string]interface{})
		qty, _ := item["qty"].(float64)
		price, _ := item["price"].(float64)
		total += qty * price
	}

	accessLog.Print(fmt.Sprintf("order request_id=%s user=%s items=%d total=%.2f",
		id, user, len(items), total))

	out, err := json.Marshal(map[string]interface{}{
		"request_id": id,
		"status":     "accepted",
		"items":      len(items),
		"total":      total,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

// bodyPool recycles request buffers across requests; bodies are small and
// alike, so a buffer grown once fits the next one.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func handleAfter(w http.ResponseWriter, r *http.Request) {
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bodyPool.Put(buf)
	if _, err := buf.ReadFrom(r.Body); err != nil {
		badRequest(w, err)
		return
	}
	var req orderRequest
	if err := json.Unmarshal(buf.Bytes(), &req); err != nil {
		badRequest(w, err)
		return
	}
	total := orderTotal(req.Items)

	line := accessLine(buf.AvailableBuffer(), &req, total)
	sink.Write(line)

	out, err := json.Marshal(orderReply{
		RequestID: req.RequestID,
		Status:    "accepted",
		Items:     len(req.Items),
		Total:     total,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

func orderTotal(items []orderItem) float64 {
	var total float64
	for _, it := range items {
		total += float64(it.Quantity) * it.Price
	}
	return total
}

// accessLine appends the same line accessLog would print, without going
// through fmt: no boxing of the arguments and no intermediate string.
func accessLine(b []byte, req *orderRequest, total float64) []byte {
	b = append(b, "gateway "...)
	b = time.Now().AppendFormat(b, "2006/01/02 15:04:05.000000 ")
	b = append(b, "order request_id="...)
	b = append(b, req.RequestID...)
	b = append(b, " user="...)
	b = append(b, req.User...)
	b = append(b, " items="...)
	b = strconv.AppendInt(b, int64(len(req.Items)), 10)
	b = append(b, " total="...)
	b = strconv.AppendFloat(b, total, 'f', 2, 64)
	return append(b, '\n')
}

func handlerFor(mode string) (http.HandlerFunc, error) {
	switch mode {
	case "before":
		return handleBefore, nil
	case "after":
		return handleAfter, nil
	}
	return nil, fmt.Errorf("unknown mode %q (want before or after)", mode)
}

// sampleOrders returns the request bodies the load generator and the
// benchmark send. Like real client traffic they carry much more than the
// gateway uses: headers, device metadata, an address.
func sampleOrders() [][]byte {
	var bodies [][]byte
	for i, n := range []int{1, 3, 5, 8} {
		items := make([]map[string]any, n)
		for j := range items {
			items[j] = map[string]any{
				"sku":       fmt.Sprintf("SKU-%04d", 17*i+j),
				"qty":       j%3 + 1,
				"price":     9.99 + float64(j)*2.5,
				"warehouse": "eu-west-" + strconv.Itoa(j%3),
				"tags":      []string{"promo", "fragile"},
			}
		}
		order := map[string]any{
			"request_id": fmt.Sprintf("req-%08x", 0x9e3779b9*uint32(i+1)),
			"user":       fmt.Sprintf("user-%d", 1000+i),
			"route":      "/v1/orders",
			"headers": map[string]string{
				"x-trace-id":      fmt.Sprintf("%016x", 0xdeadbeef*uint64(i+1)),
				"x-forwarded-for": "10.0.0." + strconv.Itoa(i+2),
				"user-agent":      "shop-app/4.12 (android 14)",
				"accept-language": "en-GB,en;q=0.8",
			},
			"client": map[string]any{
				"app_version": "4.12.1", "device": "pixel-8", "locale": "en_GB",
				"session_age_s": 3600 * (i + 1), "ab_buckets": []int{3, 17, 42},
			},
			"shipping": map[string]any{
				"name": "A. Customer", "street": "1 High Street", "city": "London",
				"postcode": "N1 9GU", "country": "GB",
			},
			"items": items,
		}
		b, err := json.Marshal(order)
		if err != nil {
			panic(err)
		}
		bodies = append(bodies, b)
	}
	return bodies
}
