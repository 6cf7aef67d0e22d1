package calls

import (
	"bufio"
	"bytes"
	"io"
)

// consume reads through an interface the compiler cannot see into.
//
//go:noinline
func consume(r io.Reader) int {
	var b [16]byte
	n, _ := r.Read(b[:])
	return n
}

// PerCall makes a new reader, and a new 64 KiB buffer, for every payload.
func PerCall(payload []byte) int {
	n := consume(bytes.NewReader(payload))
	n += consume(bufio.NewReaderSize(bytes.NewReader(payload), 64<<10))
	return n
}
