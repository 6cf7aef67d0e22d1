package cases

// Fills a map created without a size hint.
//
//go:noinline
func Index(keys []string) map[string]int {
	m := map[string]int{}
	for i, k := range keys {
		m[k] = i
	}
	return m
}
