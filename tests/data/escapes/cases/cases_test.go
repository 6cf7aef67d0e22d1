package cases

import (
	"strconv"
	"testing"
)

var (
	sinkString string
	sinkInt    int
	sinkInts   []int
	sinkMap    map[string]int
	sinkFunc   func() int
)

func BenchmarkCases(b *testing.B) {
	words := make([]string, 64)
	for i := range words {
		words[i] = "word" + strconv.Itoa(i)
	}
	for i := 0; b.Loop(); i++ {
		sinkString = Describe(1000+i, 4096+i)
		_ = NewRecord(i)
		Remember(i)
		sinkFunc = Counter(i)
		sinkInt = Buffer(1024 + i%512)
		sinkInt = Big()
		sinkInts = Evens(4096)
		sinkString = Join(words)
		sinkString = Upper("hello, escape analysis")
		sinkMap = Index(words)
		sinkString, _ = Labels(i)
	}
}
