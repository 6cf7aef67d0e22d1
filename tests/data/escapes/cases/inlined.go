package cases

import "strconv"

// label is inlined at both call sites, so the compiler repeats its verdicts.
func label(prefix string, i int) string {
	return prefix + strconv.Itoa(i)
}

//go:noinline
func Labels(i int) (string, string) {
	return label("a-", i), label("b-", i+1)
}

// A map literal's values are reported once per way the compiler builds it.
//
//go:noinline
func Tags(n int) []map[string]any {
	out := make([]map[string]any, n)
	for j := range out {
		out[j] = map[string]any{
			"zone": "eu-" + strconv.Itoa(j%3),
			"tags": []string{"a", "b"},
		}
	}
	return out
}
