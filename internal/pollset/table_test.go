package pollset

import (
	"testing"

	"github.com/muxkit/muxkit/mux"
)

func TestTable(t *testing.T) {
	var tb Table
	if tb.Has(3) || tb.Remove(3) || tb.Modify(3, mux.Readable) {
		t.Fatalf("empty table claims fd 3; want nothing added")
	}
	g := tb.Gen()
	if !tb.Add(3, mux.Readable) || !tb.Add(700, mux.Writable) || !tb.Add(5, mux.Priority) {
		t.Fatalf("Add of new fds failed; want true")
	}
	if tb.Add(3, mux.Writable) {
		t.Fatalf("second Add(3) = true; want false (already added)")
	}
	if tb.Add(-1, mux.Readable) {
		t.Fatalf("Add(-1) = true; want false")
	}
	if tb.Gen() == g {
		t.Fatalf("Gen unchanged after Add; want it to change")
	}
	g = tb.Gen()
	if !tb.Modify(700, mux.Writable) || tb.Gen() != g {
		t.Fatalf("Modify to the same interest changed Gen; want no change")
	}
	if !tb.Modify(700, mux.Readable) || tb.Gen() == g {
		t.Fatalf("Modify to a new interest left Gen unchanged; want a change")
	}
	if !tb.Remove(3) || tb.Has(3) || tb.Len() != 2 {
		t.Fatalf("after Remove(3): Has(3) = %v, Len = %d; want false, 2", tb.Has(3), tb.Len())
	}
	want := map[int]mux.Events{700: mux.Readable, 5: mux.Priority}
	for _, e := range tb.Entries() {
		if want[e.FD] != e.Interest {
			t.Errorf("entry %+v; want interest %v", e, want[e.FD])
		}
		delete(want, e.FD)
	}
	if len(want) != 0 {
		t.Errorf("entries missing %v", want)
	}
	// The moved entry's slot was updated: it can still be removed.
	if !tb.Remove(5) || !tb.Remove(700) || tb.Len() != 0 {
		t.Fatalf("Remove of the remaining fds failed; want an empty table")
	}
}

func TestTableNoAlloc(t *testing.T) {
	var tb Table
	tb.Add(40, mux.Readable)
	tb.Add(41, mux.Readable)
	tb.Remove(40)
	tb.Remove(41)
	allocs := testing.AllocsPerRun(100, func() {
		tb.Add(40, mux.Readable)
		tb.Add(41, mux.Writable)
		tb.Modify(40, mux.Writable)
		tb.Remove(40)
		tb.Remove(41)
	})
	if allocs != 0 {
		t.Fatalf("Add/Modify/Remove allocated %v times in steady state; want 0", allocs)
	}
}
