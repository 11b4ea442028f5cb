//go:build unix

package osmux

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// selector is the kernel's side of a Select Core: fd_set templates built
// from the registrations, copied for every call because select overwrites
// them, and what the last call returned.
type selector struct {
	wake    int
	entries []entry // the armed registrations at the last load
	bad     []bool  // parallel to entries: closed while added (select said EBADF)
	nbad    int     // number of true values in bad
	nfd     int     // 1 + the largest added descriptor in the templates
	anyW    bool    // some entry asks for Writable: pass the write set
	anyE    bool    // some entry asks for Priority: pass the exception set

	tr, tw, te unix.FdSet // templates: what to ask, built from entries
	r, w, e    unix.FdSet // what the last call returned
	next       int        // where the next collect starts its scan of entries
}

var selectInfo = mux.Info{
	Name:         "select",
	MaxFD:        unix.FD_SETSIZE,
	Reports:      mux.Readable | mux.Writable | mux.Priority | mux.Error,
	RegularFiles: true,
	Resolution:   selectResolution,
	Modes:        mux.OneShot,
}

func (k *selector) open(wake int) {
	k.wake = wake
	k.tr.Set(wake)
}

// load builds the templates from the registrations, leaving out the
// one-shot ones a report disarmed.
func (k *selector) load(entries []entry) {
	k.entries, k.bad = k.entries[:0], k.bad[:0]
	for _, e := range entries {
		if !e.off {
			k.entries = append(k.entries, e)
			k.bad = append(k.bad, false)
		}
	}
	k.nbad = 0
	k.tr.Zero()
	k.tw.Zero()
	k.te.Zero()
	k.tr.Set(k.wake)
	k.nfd = 0
	k.anyW, k.anyE = false, false
	for i, e := range k.entries {
		k.setTemplate(i)
		k.nfd = max(k.nfd, e.FD+1)
		k.anyW = k.anyW || e.Interest&mux.Writable != 0
		k.anyE = k.anyE || e.Interest&mux.Priority != 0
	}
}

func (k *selector) setTemplate(i int) {
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

func (k *selector) clearTemplate(fd int) {
	k.tr.Clear(fd)
	k.tw.Clear(fd)
	k.te.Clear(fd)
}

// sets copies the fd sets from the templates, for Wait to call pselect
// (select where there is none) with, and returns the arguments of the
// call: select overwrites its sets. It leaves out the empty ones (less
// for the kernel to copy and scan), and the waker from a call that does
// not wait: such a call then costs what a raw one does.
func (k *selector) sets(wake bool) (nfd int, w, e *unix.FdSet) {
	if k.nbad > 0 {
		k.recheck()
	}
	k.r = k.tr
	nfd = k.nfd
	if wake {
		nfd = max(nfd, k.wake+1)
	} else {
		k.r.Clear(k.wake)
	}
	w, e = &k.w, &k.e
	if k.anyW {
		k.w = k.tw
	} else {
		w = nil // k.w keeps an earlier call's result: collect skips it
	}
	if k.anyE {
		k.e = k.te
	} else {
		e = nil
	}
	return nfd, w, e
}

// timeout is the timeout of the call: none while descriptors closed while
// added are there to report (as Error).
func (k *selector) timeout(d time.Duration) time.Duration {
	if k.nbad > 0 {
		return 0
	}
	return d
}

// retry handles a failed call. One descriptor closed while added fails
// the whole call with EBADF, and select does not say which: retry then
// finds the closed ones, takes them out of the templates and asks again
// about the rest. The descriptors it marks are reported as Error, as
// many as nbad.
func (k *selector) retry(err error, wake bool, d time.Duration, ts *unix.Timespec) (int, error) {
	for tries := 1; ; tries++ {
		// Never read the input sets as results (CPython bpo-35310).
		k.r.Zero()
		k.w.Zero()
		k.e.Zero()
		if err != unix.EBADF || !isOpen(k.wake) {
			return 0, err
		}
		k.findBad()
		if tries == 3 {
			// None found, again and again: a number was closed and reused
			// between each call and the hunt. Asking again is right, but
			// not forever.
			return 0, nil
		}
		nfd, w, e := k.sets(wake)
		n, err := Pselect(nfd, &k.r, w, e, Timespec(k.timeout(d), ts))
		if err == nil {
			return n, nil
		}
	}
}

// findBad marks the added descriptors that are closed and takes them out
// of the templates.
func (k *selector) findBad() {
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
func (k *selector) recheck() {
	for i, e := range k.entries {
		if k.bad[i] && isOpen(e.FD) {
			k.bad[i] = false
			k.nbad--
			k.setTemplate(i)
		}
	}
}

// collect scans entries from where the last scan stopped, round the end,
// until it has seen every ready one or events is full: a ready descriptor
// never starves. It appends to shots the one-shot registrations it
// reports, for Wait to disarm.
func (k *selector) collect(events []mux.Event, n int, shots *[]entry) int {
	entries := k.entries
	if k.next >= len(entries) {
		k.next = 0
	}
	if k.r.IsSet(k.wake) {
		n--
	}
	// select counts a descriptor once per set it is in; n goes down by as
	// much, so the scan stops after the last ready one.
	count := 0
	for i, seen := k.next, 0; seen < len(entries) && n > 0; seen++ {
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
			if entries[j].Interest&mux.OneShot != 0 {
				*shots = append(*shots, entries[j])
			}
			if count++; count == len(events) {
				k.next = i
				break
			}
		}
	}
	return count
}
