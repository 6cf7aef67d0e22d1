package cases

// Appends to a slice that starts with a tiny capacity.
//
//go:noinline
func Evens(n int) []int {
	out := make([]int, 0, 2)
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			out = append(out, i)
		}
	}
	return out
}
