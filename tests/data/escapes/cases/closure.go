package cases

// The counter's variable is captured by reference by a closure that escapes.
//
//go:noinline
func Counter(start int) func() int {
	n := start
	return func() int {
		n++
		return n
	}
}
