package loop

// The deadline heap: a binary min-heap of timers ordered by time, each
// task's slot holding the index of its timer (slot.hidx) so that a changed
// or cancelled deadline is fixed in place. It allocates only when it grows
// past its largest size so far.

func (l *Loop) heapLess(i, j int) bool { return l.heap[i].at.Before(l.heap[j].at) }

func (l *Loop) heapSwap(i, j int) {
	h := l.heap
	h[i], h[j] = h[j], h[i]
	l.table[h[i].fd].hidx = i
	l.table[h[j].fd].hidx = j
}

func (l *Loop) heapUp(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !l.heapLess(i, p) {
			return
		}
		l.heapSwap(i, p)
		i = p
	}
}

// heapDown moves the timer at i down, and reports whether it moved.
func (l *Loop) heapDown(i int) bool {
	i0, n := i, len(l.heap)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && l.heapLess(r, c) {
			c = r
		}
		if !l.heapLess(c, i) {
			break
		}
		l.heapSwap(i, c)
		i = c
	}
	return i > i0
}

// heapFix restores the order after the timer at i changed.
func (l *Loop) heapFix(i int) {
	if !l.heapDown(i) {
		l.heapUp(i)
	}
}

// heapRemove removes the timer at i. The caller resets its slot's hidx.
func (l *Loop) heapRemove(i int) {
	last := len(l.heap) - 1
	if i != last {
		l.heapSwap(i, last)
	}
	l.heap[last] = timer{}
	l.heap = l.heap[:last]
	if i != last {
		l.heapFix(i)
	}
}
