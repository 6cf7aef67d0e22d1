package cases

type Record struct {
	ID    int
	Name  string
	Score [8]float64
}

var sink *Record

// A local whose address is returned.
//
//go:noinline
func NewRecord(id int) *Record {
	r := Record{ID: id}
	return &r
}

// A local whose address is stored in a global.
//
//go:noinline
func Remember(id int) {
	r := Record{ID: id}
	sink = &r
}
