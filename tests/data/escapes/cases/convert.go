package cases

var keep []byte

// Converts between string and []byte on every call.
//
//go:noinline
func Upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	keep = b
	return string(b)
}
