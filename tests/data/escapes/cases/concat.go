package cases

// Builds a string with += in a loop.
//
//go:noinline
func Join(words []string) string {
	s := ""
	for _, w := range words {
		s += w + ","
	}
	return s
}
