package calls

import "testing"

var sinkInt int

func BenchmarkCalls(b *testing.B) {
	payload := []byte("hello, escape analysis")
	for b.Loop() {
		sinkInt = PerCall(payload)
		sinkInt = Spawn(4, "w")
		Deferred(4)
	}
}
