// Package adserver is a cut-down ad server: it decodes a bid request, picks
// the ads that match it and logs the auction. Two allocation problems from
// the field are kept in on purpose (see NOTES.md): the request struct escapes
// because its address goes to a decoder behind an interface, and the result
// slice starts with a tiny capacity and grows tens of thousands of times.
package adserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// BidRequest is what a decoder fills in. Raw keeps the message as received
// for the auction log, which makes the struct 32 KB.
type BidRequest struct {
	ID      [16]byte
	Country [2]byte
	Floor   uint32 // in micro-units
	Slots   uint16
	Raw     [32 << 10]byte
	RawLen  int
}

// Decoder fills v from a wire message. The server picks one at start-up, so
// every call goes through the interface and the compiler cannot see inside.
type Decoder interface {
	Decode(msg []byte, v any) error
}

var errShort = errors.New("adserver: short message")

// WireDecoder reads the fixed binary layout the exchange sends.
type WireDecoder struct{}

func (WireDecoder) Decode(msg []byte, v any) error {
	req, ok := v.(*BidRequest)
	if !ok {
		return fmt.Errorf("adserver: cannot decode into %T", v)
	}
	if len(msg) < 24 {
		return errShort
	}
	copy(req.ID[:], msg[:16])
	copy(req.Country[:], msg[16:18])
	req.Floor = binary.LittleEndian.Uint32(msg[18:22])
	req.Slots = binary.LittleEndian.Uint16(msg[22:24])
	req.RawLen = copy(req.Raw[:], msg)
	return nil
}

// Ad is one line item of the inventory.
type Ad struct {
	ID      uint32
	Country [2]byte
	Bid     uint32 // in micro-units
}

// Server answers bid requests from an in-memory inventory.
type Server struct {
	dec       Decoder
	inventory []Ad
	log       io.Writer
}

func NewServer(dec Decoder, inventory []Ad, log io.Writer) *Server {
	return &Server{dec: dec, inventory: inventory, log: log}
}

// Serve handles one bid request and returns how many ads are eligible.
func (s *Server) Serve(msg []byte) (int, error) {
	var req BidRequest
	if err := s.dec.Decode(msg, &req); err != nil {
		return 0, err
	}
	eligible := s.match(&req)
	fmt.Fprintf(s.log, "auction %x country=%s floor=%d eligible=%d\n",
		req.ID[:4], req.Country[:], req.Floor, len(eligible))
	return len(eligible), nil
}

// match returns the indices of the ads that may bid on req.
func (s *Server) match(req *BidRequest) []int32 {
	eligible := make([]int32, 0, 8)
	for i := range s.inventory {
		ad := &s.inventory[i]
		if ad.Country == req.Country && ad.Bid >= req.Floor {
			eligible = append(eligible, int32(i))
		}
	}
	return eligible
}
