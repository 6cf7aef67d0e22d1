package adserver

import (
	"encoding/binary"
	"io"
	"testing"
)

// inventory makes n ads, most of them eligible for sampleRequest.
func inventory(n int) []Ad {
	ads := make([]Ad, n)
	for i := range ads {
		ads[i] = Ad{ID: uint32(i), Country: [2]byte{'D', 'E'}, Bid: uint32(1000 + (i*37)%5000)}
		if i%7 == 0 {
			ads[i].Country = [2]byte{'F', 'R'}
		}
	}
	return ads
}

func sampleRequest() []byte {
	msg := make([]byte, 512)
	copy(msg, "req-0123456789ab")
	copy(msg[16:], "DE")
	binary.LittleEndian.PutUint32(msg[18:], 1500)
	binary.LittleEndian.PutUint16(msg[22:], 3)
	return msg
}

func TestServe(t *testing.T) {
	s := NewServer(WireDecoder{}, inventory(100), io.Discard)
	n, err := s.Serve(sampleRequest())
	if err != nil || n == 0 {
		t.Fatalf("Serve = %d, %v", n, err)
	}
}

// BenchmarkServe: 40,000 ads in the inventory, about 31,000 eligible per request.
func BenchmarkServe(b *testing.B) {
	s := NewServer(WireDecoder{}, inventory(40000), io.Discard)
	msg := sampleRequest()
	b.ReportAllocs()
	for b.Loop() {
		if n, err := s.Serve(msg); err != nil || n == 0 {
			b.Fatalf("Serve = %d, %v", n, err)
		}
	}
}
