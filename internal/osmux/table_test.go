//go:build unix

package osmux

import (
	"testing"

	"github.com/muxkit/muxkit/mux"
)

func TestTable(t *testing.T) {
	var tb table
	if tb.has(3) || tb.interest(3) != 0 || tb.has(-1) {
		t.Fatalf("empty table: has(3) = %v, interest(3) = %v; want false, 0", tb.has(3), tb.interest(3))
	}
	tb.add(3, mux.Readable)
	tb.add(700, mux.Writable)
	tb.add(5, mux.Priority)
	if !tb.has(3) || !tb.has(700) || tb.has(4) || len(tb.entries) != 3 {
		t.Fatalf("after three adds: has(3) = %v, has(700) = %v, has(4) = %v, %d entries; want true, true, false, 3",
			tb.has(3), tb.has(700), tb.has(4), len(tb.entries))
	}
	if tb.modify(700, mux.Writable) {
		t.Errorf("modify to the same interest reported a change; want none")
	}
	if !tb.modify(700, mux.Readable) || tb.interest(700) != mux.Readable {
		t.Errorf("modify to a new interest: interest(700) = %v; want a change to Readable", tb.interest(700))
	}
	tb.remove(3)
	if tb.has(3) || len(tb.entries) != 2 {
		t.Fatalf("after remove(3): has(3) = %v, %d entries; want false, 2", tb.has(3), len(tb.entries))
	}
	want := map[int]mux.Events{700: mux.Readable, 5: mux.Priority}
	for _, e := range tb.entries {
		if want[e.FD] != e.Interest {
			t.Errorf("entry %+v; want interest %v", e, want[e.FD])
		}
		delete(want, e.FD)
	}
	if len(want) != 0 {
		t.Errorf("entries missing %v", want)
	}
	// The moved entry's slot was updated: it can still be removed.
	tb.remove(5)
	tb.remove(700)
	if len(tb.entries) != 0 || tb.has(5) || tb.has(700) {
		t.Fatalf("after removing the rest: %d entries; want an empty table", len(tb.entries))
	}
}

func TestTableNoAlloc(t *testing.T) {
	var tb table
	tb.add(40, mux.Readable)
	tb.add(41, mux.Readable)
	tb.remove(40)
	tb.remove(41)
	allocs := testing.AllocsPerRun(100, func() {
		tb.add(40, mux.Readable)
		tb.add(41, mux.Writable)
		tb.modify(40, mux.Writable)
		tb.remove(40)
		tb.remove(41)
	})
	if allocs != 0 {
		t.Fatalf("add, modify and remove allocated %v times in steady state; want 0", allocs)
	}
}

// TestTableDisarm checks the bookkeeping of one-shot registrations on
// poll and select: a report disarms the entry it was collected from, and
// only that version of it; Modify re-arms, even to the same interest.
func TestTableDisarm(t *testing.T) {
	var tb table
	tb.add(3, mux.Readable|mux.OneShot)
	loaded := tb.entries[tb.index(3)]
	if !tb.disarm(3, loaded.ver) || !tb.entries[tb.index(3)].off {
		t.Fatalf("disarm of the loaded version: entry %+v; want it disarmed", tb.entries[tb.index(3)])
	}
	if !tb.modify(3, mux.Readable|mux.OneShot) || tb.entries[tb.index(3)].off {
		t.Errorf("modify to the same interest of a disarmed entry: entry %+v, no change reported; want it re-armed, as a change", tb.entries[tb.index(3)])
	}
	// A report of the version loaded before the Modify: the Modify came
	// after it, and wins.
	if tb.disarm(3, loaded.ver) || tb.entries[tb.index(3)].off {
		t.Errorf("disarm of a version older than the last Modify: entry %+v; want it left armed", tb.entries[tb.index(3)])
	}
	tb.remove(3)
	if tb.disarm(3, loaded.ver) {
		t.Errorf("disarm of a removed descriptor reported success; want false")
	}
}
