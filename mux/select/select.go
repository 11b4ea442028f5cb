package selectmux

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/internal/pollset"
	"github.com/muxkit/muxkit/mux"
)

// Mux is a mux.Multiplexer over select(2). Its methods are safe for
// concurrent use.
type Mux struct {
	s *pollset.Set
}

var _ mux.Multiplexer = (*Mux)(nil)

// New returns a Multiplexer over select(2). Close it to release its wake
// descriptor. It fails with mux.ErrFDLimit if the wake descriptor it opens
// is not below FD_SETSIZE.
func New() (*Mux, error) {
	s, err := pollset.New("select", unix.FD_SETSIZE, new(kernel))
	if err != nil {
		return nil, err
	}
	return &Mux{s}, nil
}

// Info describes the backend.
func (*Mux) Info() mux.Info {
	return mux.Info{
		Name:         "select",
		MaxFD:        unix.FD_SETSIZE,
		Reports:      mux.Readable | mux.Writable | mux.Priority | mux.Error,
		RegularFiles: true,
		Resolution:   resolution,
	}
}

// Add starts watching fd for interest, a non-empty subset of
// mux.Readable|mux.Writable|mux.Priority. A negative or closed fd is
// mux.ErrBadFD; an fd of FD_SETSIZE or more is mux.ErrFDLimit.
func (m *Mux) Add(fd int, interest mux.Events) error { return m.s.Add(fd, interest) }

// Modify replaces the interest of an added fd.
func (m *Mux) Modify(fd int, interest mux.Events) error { return m.s.Modify(fd, interest) }

// Remove stops watching fd. It succeeds for an fd closed while added.
func (m *Mux) Remove(fd int) error { return m.s.Remove(fd) }

// Wait waits until an added fd is ready, Wake or Close is called, or
// timeout elapses (a negative timeout waits without limit), and fills
// events with what is ready.
func (m *Mux) Wait(events []mux.Event, timeout time.Duration) (int, error) {
	return m.s.Wait(events, timeout)
}

// Wake makes the Wait in progress, or else the next one, return promptly.
func (m *Mux) Wake() error { return m.s.Wake() }

// Close releases the wake descriptor and makes a blocked Wait return
// mux.ErrClosed. It does not close the added descriptors.
func (m *Mux) Close() error { return m.s.Close() }

// kernel holds the fd sets. It is touched only by the goroutine in Wait.
type kernel struct {
	wake    int
	entries []pollset.Entry // copy of the table's entries at the last Rebuild
	bad     []bool          // parallel to entries: closed while added (select said EBADF)
	nbad    int             // number of true values in bad
	nfd     int             // 1 + the largest descriptor in the templates
	anyW    bool            // some entry asks for Writable: pass the write set
	anyE    bool            // some entry asks for Priority: pass the exception set

	tr, tw, te unix.FdSet // templates: what to ask, built from entries
	r, w, e    unix.FdSet // what the last call returned
}

func (k *kernel) Rebuild(entries []pollset.Entry, wake int) {
	k.wake = wake
	k.entries = append(k.entries[:0], entries...)
	k.bad = k.bad[:0]
	for range entries {
		k.bad = append(k.bad, false)
	}
	k.nbad = 0
	k.tr.Zero()
	k.tw.Zero()
	k.te.Zero()
	k.tr.Set(wake)
	k.nfd = wake + 1
	k.anyW, k.anyE = false, false
	for i, e := range k.entries {
		k.setTemplate(i)
		k.nfd = max(k.nfd, e.FD+1)
		k.anyW = k.anyW || e.Interest&mux.Writable != 0
		k.anyE = k.anyE || e.Interest&mux.Priority != 0
	}
}

func (k *kernel) setTemplate(i int) {
	e := k.entries[i]
	if e.Interest&mux.Readable != 0 {
		k.tr.Set(e.FD)
	}
	if e.Interest&mux.Writable != 0 {
		k.tw.Set(e.FD)
	}
	if e.Interest&mux.Priority != 0 {
		k.te.Set(e.FD)
	}
}

func (k *kernel) clearTemplate(fd int) {
	k.tr.Clear(fd)
	k.tw.Clear(fd)
	k.te.Clear(fd)
}

func (k *kernel) Call(left time.Duration) (int, error) {
	for retry := 0; ; retry++ {
		if k.nbad > 0 {
			k.recheck()
		}
		if k.nbad > 0 {
			left = 0 // the closed descriptors are ready (as Error) now
		}
		// select overwrites its sets: copy them from the templates before
		// every call, and leave out the empty ones (less for the kernel
		// to copy and scan).
		k.r = k.tr
		w, e := &k.w, &k.e
		if k.anyW {
			k.w = k.tw
		} else {
			w = nil // k.w keeps an earlier call's result: Collect skips it
		}
		if k.anyE {
			k.e = k.te
		} else {
			e = nil
		}
		n, err := pselect(k.nfd, &k.r, w, e, left)
		if err == nil {
			return n + k.nbad, nil
		}
		// Never read the input sets as results (CPython bpo-35310).
		k.r.Zero()
		k.w.Zero()
		k.e.Zero()
		if err != unix.EBADF || !isOpen(k.wake) {
			return 0, err
		}
		// One closed descriptor fails the whole call. Find the closed
		// ones, take them out of the templates and ask again about the
		// rest. If none is found, a number was closed and reused in
		// between: asking again is right too, but not forever.
		k.findBad()
		if retry == 2 {
			return k.nbad, nil
		}
	}
}

// findBad marks the added descriptors that are closed and takes them out
// of the templates.
func (k *kernel) findBad() {
	for i, e := range k.entries {
		if !k.bad[i] && !isOpen(e.FD) {
			k.bad[i] = true
			k.nbad++
			k.clearTemplate(e.FD)
		}
	}
}

// recheck watches again a descriptor marked bad whose number is open
// again, as poll would (poll watches numbers too). Remove before close and
// Add after open is what callers should do; this keeps select and poll
// alike when they do not.
func (k *kernel) recheck() {
	for i, e := range k.entries {
		if k.bad[i] && isOpen(e.FD) {
			k.bad[i] = false
			k.nbad--
			k.setTemplate(i)
		}
	}
}

func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err != unix.EBADF
}

func (k *kernel) Collect(events []mux.Event, n, start int) (count, next int) {
	entries := k.entries
	if start >= len(entries) {
		start = 0
	}
	if k.r.IsSet(k.wake) {
		n--
	}
	// select counts a descriptor once per set it is in; n is decremented
	// by as much, so the scan stops after the last ready one.
	i := start
	for seen := 0; seen < len(entries) && n > 0; seen++ {
		j := i
		if i++; i == len(entries) {
			i = 0
		}
		fd := entries[j].FD
		var ev mux.Events
		if k.bad[j] {
			ev = mux.Error
			n--
		} else {
			if k.r.IsSet(fd) {
				ev |= mux.Readable
				n--
			}
			// A set not passed to the last call holds an older result.
			if k.anyW && k.w.IsSet(fd) {
				ev |= mux.Writable
				n--
			}
			if k.anyE && k.e.IsSet(fd) {
				ev |= mux.Priority
				n--
			}
		}
		if ev != 0 {
			events[count] = mux.Event{FD: fd, Events: ev}
			if count++; count == len(events) {
				return count, i
			}
		}
	}
	return count, start
}
