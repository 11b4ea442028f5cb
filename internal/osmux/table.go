//go:build unix

package osmux

import "github.com/muxkit/muxkit/mux"

// entry is one added descriptor, its interest (with its modes), and, for a
// one-shot registration of a Poll or Select Core, whether a report has
// disarmed it.
type entry struct {
	FD       int
	Interest mux.Events
	off      bool   // a one-shot registration reported and not re-armed since
	ver      uint64 // the table's count of changes at the entry's last Add or Modify
}

// table is the set of added descriptors, guarded by a Core's mutex. In
// steady state (numbers below the largest one seen, no more entries than
// before) no method allocates.
type table struct {
	entries []entry // in no particular order
	slot    []int32 // slot[fd] is 1 + fd's index in entries, or 0 if fd is not added
	ver     uint64  // counts Adds and Modifies: see entry.ver and disarm
}

func (t *table) index(fd int) int {
	if fd < 0 || fd >= len(t.slot) {
		return -1
	}
	return int(t.slot[fd]) - 1
}

func (t *table) has(fd int) bool { return t.index(fd) >= 0 }

// interest returns fd's interest, or 0 if fd is not added.
func (t *table) interest(fd int) mux.Events {
	if i := t.index(fd); i >= 0 {
		return t.entries[i].Interest
	}
	return 0
}

// add adds fd, which is not added, with interest. The slots grow to fd+1
// at least: callers add only descriptors the OS says are open.
func (t *table) add(fd int, interest mux.Events) {
	if fd >= len(t.slot) {
		slot := make([]int32, max(2*len(t.slot), fd+1, 64))
		copy(slot, t.slot)
		t.slot = slot
	}
	t.ver++
	t.entries = append(t.entries, entry{FD: fd, Interest: interest, ver: t.ver})
	t.slot[fd] = int32(len(t.entries))
}

// modify replaces the interest of fd, which is added, re-arms it if a
// one-shot report disarmed it, and reports whether either changed it.
func (t *table) modify(fd int, interest mux.Events) bool {
	e := &t.entries[t.index(fd)]
	if e.Interest == interest && !e.off {
		return false
	}
	t.ver++
	e.Interest, e.off, e.ver = interest, false, t.ver
	return true
}

// disarm disarms fd, which a Wait has reported under a one-shot
// registration, and reports whether it did: not if fd was removed, or
// added or modified again, since the Wait loaded the entry of version
// ver. A Modify that races the report re-arms it, as if made after it.
func (t *table) disarm(fd int, ver uint64) bool {
	i := t.index(fd)
	if i < 0 || t.entries[i].ver != ver {
		return false
	}
	t.entries[i].off = true
	return true
}

// remove removes fd, which is added.
func (t *table) remove(fd int) {
	i := t.index(fd)
	last := len(t.entries) - 1
	if i != last {
		t.entries[i] = t.entries[last]
		t.slot[t.entries[i].FD] = int32(i + 1)
	}
	t.entries = t.entries[:last]
	t.slot[fd] = 0
}
