// Command largeheap produces a large Go heap profile for benchmarking
// reportgen.
//
// It performs many pseudo-random walks through a generated call graph
// (funcs_gen.go: ~1500 //go:noinline functions, each choosing its next callee
// from a 4-entry table by the walk's per-level choice), ~30 frames deep, with
// runtime.MemProfileRate = 1 so that every leaf allocation is recorded.
//
// Consecutive walks share a random-length prefix (root side) and re-randomize
// the rest, like a real program whose hot stacks share common trunks. Nearly
// every walk therefore yields a distinct stack, while the profile compresses
// roughly like a real one. Tune with the flags below.
//
// Regenerate the call graph with: go generate (runs gen.go, deterministic).
package main

//go:generate go run gen.go

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"unsafe"
)

func init() {
	// Record every allocation. Set as early as possible.
	runtime.MemProfileRate = 1
}

type node0 struct{ a int }
type node1 struct {
	a int
	b [3]uint64
}
type node2 struct {
	a int
	b [15]uint64
}
type node3 struct {
	a int
	b [63]uint64
}

const maxDepth = 64

// walk is the argument threaded through the generated functions.
type walk struct {
	path  [maxDepth]uint8 // path[l]: which callee (0..Fanout-1) to take at level l
	depth int             // allocate when level reaches depth
	size  int             // allocation size hint for the leaf
	keep  bool            // keep the leaf allocation live (inuse_*)
}

// live keeps about half of the leaf allocations reachable, so they show up in
// inuse_space/inuse_objects as well as in alloc_*.
var live []unsafe.Pointer

//go:noinline
func (w *walk) retain(p unsafe.Pointer) {
	if w.keep {
		live = append(live, p)
	}
}

type rng uint64

func (r *rng) next() uint64 {
	*r = rng(uint64(*r)*6364136223846793005 + 1442695040888963407)
	x := uint64(*r)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	return x ^ (x >> 33)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func main() {
	walks := flag.Int("walks", 175000, "number of walks (≈ number of distinct stacks)")
	minDepth := flag.Int("min-depth", 24, "minimum walk depth")
	spread := flag.Int("depth-spread", 13, "walk depth is min-depth + [0, depth-spread)")
	reroot := flag.Int("reroot", 64, "on average, 1 in N walks starts a completely new path")
	maxSuffix := flag.Int("max-suffix", 12, "other walks re-randomize the last [1, max-suffix] levels")
	seed := flag.Uint64("seed", 1, "walk seed")
	out := flag.String("o", "large.heap.pb.gz", "output heap profile")
	flag.Parse()
	if *minDepth+*spread > maxDepth || *minDepth < 1 || *spread < 1 || *maxSuffix < 1 || *reroot < 1 {
		fmt.Fprintln(os.Stderr, "largeheap: bad depth/suffix/reroot flags")
		os.Exit(2)
	}

	r := rng(*seed)
	var w walk
	entry := 0
	live = make([]unsafe.Pointer, 0, *walks/2+1024)
	for i := 0; i < *walks; i++ {
		from := 0 // first level to re-randomize
		if i == 0 || r.intn(*reroot) == 0 {
			entry = r.intn(NumFuncs)
			w.depth = *minDepth + r.intn(*spread)
		} else {
			from = w.depth - 1 - r.intn(*maxSuffix)
			if from < 0 {
				from = 0
			}
		}
		for l := from; l < w.depth; l++ {
			w.path[l] = uint8(r.intn(Fanout))
		}
		w.size = 8 + r.intn(1024)
		w.keep = r.intn(2) == 0
		Entry[entry](&w, 0)
	}

	runtime.GC()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	runtime.KeepAlive(live)
	fmt.Fprintf(os.Stderr, "largeheap: %d walks, %d live leaf objects -> %s\n", *walks, len(live), *out)
}
