package loop

import "time"

// timers is an indexed min-heap of deadlines: at most one per key (the
// position of a task's slot in the table), each set or removed in place.
// It allocates only when it grows past its largest size so far.
//
// A deadline moved later keeps its place in the heap, which is ordered by
// at, and only its want changes; it is put in its true place when its at
// comes. A deadline that slides with a task's activity (its last request
// plus a timeout) moves past every other on each request, and sinking it
// to the bottom of the heap each time cost O(log n) swaps; now it costs
// O(1), and the timer is sunk once when its old time comes. The price is
// that next may be early: the loop then wakes to find nothing due, at
// most once per timer and per span of its deadline.
type timers struct {
	heap []timer
	pos  []int32 // key → 1 + index of its timer in heap; 0 when it has none
}

// timer is an entry of the heap: want is its deadline, at is where it sits
// in the heap's order, at most want.
type timer struct {
	at, want time.Time
	key      int32
}

// set gives key the deadline at, replacing the one it had.
func (h *timers) set(key int32, at time.Time) {
	if int(key) >= len(h.pos) {
		h.pos = append(h.pos, make([]int32, int(key)+1-len(h.pos))...)
	}
	i := int(h.pos[key]) - 1
	switch {
	case i < 0:
		h.heap = append(h.heap, timer{at: at, want: at, key: key})
		i = len(h.heap) - 1
		h.pos[key] = int32(i) + 1
		h.up(i)
	case !at.Before(h.heap[i].at):
		h.heap[i].want = at
	default:
		h.heap[i].at, h.heap[i].want = at, at
		h.up(i)
	}
}

// remove takes away key's deadline, if it has one.
func (h *timers) remove(key int32) {
	if int(key) >= len(h.pos) || h.pos[key] == 0 {
		return
	}
	i, last := int(h.pos[key])-1, len(h.heap)-1
	if i != last {
		h.swap(i, last)
	}
	h.heap[last] = timer{}
	h.heap = h.heap[:last]
	h.pos[key] = 0
	if i != last {
		h.fix(i)
	}
}

// next returns when to look for due deadlines with popDue: a time no
// later than the earliest deadline, and false if there is none.
func (h *timers) next() (time.Time, bool) {
	if len(h.heap) == 0 {
		return time.Time{}, false
	}
	return h.heap[0].at, true
}

// popDue removes the earliest deadline if it is not after now, and returns
// its key. Timers whose at came but whose deadline was moved later go to
// their true place on the way, so that due deadlines come earliest first.
func (h *timers) popDue(now time.Time) (key int32, ok bool) {
	for len(h.heap) > 0 && !h.heap[0].at.After(now) && h.heap[0].at.Before(h.heap[0].want) {
		h.heap[0].at = h.heap[0].want
		h.down(0)
	}
	if len(h.heap) == 0 || h.heap[0].at.After(now) {
		return 0, false
	}
	key = h.heap[0].key
	h.remove(key)
	return key, true
}

func (h *timers) less(i, j int) bool { return h.heap[i].at.Before(h.heap[j].at) }

func (h *timers) swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.pos[h.heap[i].key] = int32(i) + 1
	h.pos[h.heap[j].key] = int32(j) + 1
}

func (h *timers) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

// down moves the timer at i down, and reports whether it moved.
func (h *timers) down(i int) bool {
	i0, n := i, len(h.heap)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h.less(r, c) {
			c = r
		}
		if !h.less(c, i) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > i0
}

// fix restores the order after the timer at i changed.
func (h *timers) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}
