package loop

import (
	"math"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// table holds the slot of each descriptor the loop drives. Its index by
// descriptor number costs 4 bytes a number up to the highest it has held;
// the slots themselves are as many as the descriptors in use at once, and
// are reused as they free. Only a descriptor the Multiplexer has accepted
// (an open one) is given a slot, so the index grows no larger than the
// process's own descriptor table.
type table struct {
	index []int32 // descriptor → 1 + position of its slot; 0 when it has none
	slots []slot
	free  []int32 // positions of slots not in use
}

// slot is the loop's record of one descriptor: a task's or a listener's.
type slot struct {
	kind     slotKind
	fd       int
	gen      uint64 // registration generation; see dispatch
	task     Task
	done     func(Result)
	interest mux.Events // as last given to the Multiplexer; edge-triggered, what the task waits for
	ready    mux.Events // edge-triggered: the conditions reported and not yet ended by an EAGAIN (the reported-only ones for good)

	// Listeners.
	newConn func(now time.Time) Task
	paused  bool   // removed from the Multiplexer for backpressure
	stalled bool   // accept failed; paused until a task finishes
	stallAt uint64 // nfinished when it stalled
}

type slotKind uint8

const (
	slotFree slotKind = iota
	slotTask
	slotListener
)

// maxFD is the highest descriptor number the loop takes: descriptors are C
// ints, so a larger number is not one, whatever a Multiplexer says of it.
const maxFD = math.MaxInt32

// get returns the slot of fd, or nil if it has none. The pointer is good
// until the next add.
func (t *table) get(fd int) *slot {
	if fd < 0 || fd >= len(t.index) || t.index[fd] == 0 {
		return nil
	}
	return &t.slots[t.index[fd]-1]
}

// add gives fd, which has no slot, a zeroed one, and returns it and its
// position (which stays its own until remove).
func (t *table) add(fd int) (int32, *slot) {
	if fd >= len(t.index) {
		t.index = append(t.index, make([]int32, fd+1-len(t.index))...)
	}
	var pos int32
	if n := len(t.free); n > 0 {
		pos, t.free = t.free[n-1], t.free[:n-1]
	} else {
		t.slots = append(t.slots, slot{})
		pos = int32(len(t.slots) - 1)
	}
	t.index[fd] = pos + 1
	s := &t.slots[pos]
	*s = slot{fd: fd}
	return pos, s
}

// remove frees the slot of fd.
func (t *table) remove(fd int) {
	pos := t.index[fd] - 1
	t.index[fd] = 0
	t.slots[pos] = slot{}
	t.free = append(t.free, pos)
}

// position returns the position of fd's slot; fd has one.
func (t *table) position(fd int) int32 { return t.index[fd] - 1 }
