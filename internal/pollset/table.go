package pollset

import "github.com/muxkit/muxkit/mux"

// Entry is one added descriptor and its interest.
type Entry struct {
	FD       int
	Interest mux.Events
}

// Table is the set of added descriptors. It has no lock of its own: a Set
// guards it with its mutex. In steady state (numbers below the largest
// one seen, no more entries than before) no method allocates.
type Table struct {
	entries []Entry // in no particular order
	slot    []int32 // slot[fd] is 1 + fd's index in entries, or 0 if fd is not added
	gen     uint64  // incremented on every change
}

// Entries returns the added descriptors. The slice is valid until the next
// change.
func (t *Table) Entries() []Entry { return t.entries }

// Gen returns a number that changes whenever the table changes.
func (t *Table) Gen() uint64 { return t.gen }

// Len returns the number of added descriptors.
func (t *Table) Len() int { return len(t.entries) }

func (t *Table) index(fd int) int {
	if fd < 0 || fd >= len(t.slot) {
		return -1
	}
	return int(t.slot[fd]) - 1
}

// Has reports whether fd is added.
func (t *Table) Has(fd int) bool { return t.index(fd) >= 0 }

// Add adds fd with interest and reports whether it was not already added.
func (t *Table) Add(fd int, interest mux.Events) bool {
	if fd < 0 || t.index(fd) >= 0 {
		return false
	}
	if fd >= len(t.slot) {
		n := max(2*len(t.slot), fd+1, 64)
		slot := make([]int32, n)
		copy(slot, t.slot)
		t.slot = slot
	}
	t.entries = append(t.entries, Entry{FD: fd, Interest: interest})
	t.slot[fd] = int32(len(t.entries))
	t.gen++
	return true
}

// Modify replaces fd's interest and reports whether fd was added. Setting
// the interest it already has is not a change.
func (t *Table) Modify(fd int, interest mux.Events) bool {
	i := t.index(fd)
	if i < 0 {
		return false
	}
	if t.entries[i].Interest != interest {
		t.entries[i].Interest = interest
		t.gen++
	}
	return true
}

// Remove removes fd and reports whether it was added.
func (t *Table) Remove(fd int) bool {
	i := t.index(fd)
	if i < 0 {
		return false
	}
	last := len(t.entries) - 1
	if i != last {
		t.entries[i] = t.entries[last]
		t.slot[t.entries[i].FD] = int32(i + 1)
	}
	t.entries = t.entries[:last]
	t.slot[fd] = 0
	t.gen++
	return true
}
