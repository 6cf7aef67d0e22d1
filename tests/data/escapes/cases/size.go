package cases

// A buffer whose size is only known at run time.
//
//go:noinline
func Buffer(n int) int {
	buf := make([]byte, n)
	buf[n-1] = 1
	return len(buf)
}

// A buffer too large for the stack.
//
//go:noinline
func Big() int {
	var table [1 << 17]int64
	for i := range table {
		table[i] = int64(i)
	}
	return int(table[len(table)-1])
}
