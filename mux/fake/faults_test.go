package fake_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

func TestFaultSpurious(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{Spurious: 1}})
	m := mustMux(t, k)
	a, _ := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	if got := waitFor(t, m, a, 0); got != mux.Readable {
		t.Fatalf("idle socket with Spurious: 1 reported %v; want Readable anyway", got)
	}
	if _, err := k.Read(a, make([]byte, 1)); err != syscall.EAGAIN {
		t.Fatalf("Read after spurious readiness = %v; want EAGAIN", err)
	}
}

func TestFaultAgain(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	k.Write(b, []byte("data"))
	if got := waitFor(t, m, a, 0); got != mux.Readable {
		t.Fatalf("socket with data reported %v; want Readable", got)
	}
	k.SetFaults(fake.Faults{Again: 1})
	if _, err := k.Read(a, make([]byte, 8)); err != syscall.EAGAIN {
		t.Fatalf("Read with Again: 1 = %v; want EAGAIN despite readiness", err)
	}
	k.SetFaults(fake.Faults{})
	if n, err := k.Read(a, make([]byte, 8)); n != 4 || err != nil {
		t.Fatalf("Read after the fault = %d, %v; want the 4 bytes, still there", n, err)
	}
}

func TestFaultShortIO(t *testing.T) {
	k := fake.New(fake.Config{Seed: 1, Faults: fake.Faults{ShortRead: 1, ShortWrite: 1}})
	a, b := mustPair(t, k)
	n, err := k.Write(b, make([]byte, 100))
	if err != nil || n <= 0 || n >= 100 {
		t.Fatalf("Write(100) with ShortWrite: 1 = %d, %v; want 0 < n < 100", n, err)
	}
	r, err := k.Read(a, make([]byte, 200))
	if err != nil || r <= 0 || r >= n {
		t.Fatalf("Read of %d bytes with ShortRead: 1 = %d, %v; want 0 < r < %d", n, r, err, n)
	}
	if got := k.Fired(); got["short-write"] != 1 || got["short-read"] != 1 {
		t.Fatalf("Fired() = %v; want one short-write and one short-read", got)
	}
}

func TestFaultSplit(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{Split: 1}})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	k.Write(b, []byte("x"))
	mustAdd(t, m, a, mux.Readable|mux.Writable)
	first := waitFor(t, m, a, 0)
	second := waitFor(t, m, a, 0)
	if first != mux.Readable || second != mux.Writable {
		t.Fatalf("readable and writable socket with Split: 1 reported %v then %v; want Readable then Writable", first, second)
	}
}

func TestFaultTruncate(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{Truncate: 1}})
	m := mustMux(t, k)
	ready := map[int]bool{}
	for range 4 {
		a, b := mustPair(t, k)
		k.Write(b, []byte("x"))
		mustAdd(t, m, a, mux.Readable)
		ready[a] = false
	}
	evs := make([]mux.Event, 8)
	n, err := m.Wait(evs, 0)
	if err != nil || n < 1 || n >= 4 {
		t.Fatalf("Wait with 4 ready and Truncate: 1 = %d, %v; want 1 ≤ n < 4", n, err)
	}
	for range 8 {
		for _, ev := range evs[:n] {
			ready[ev.FD] = true
		}
		n, _ = m.Wait(evs, 0)
	}
	for fd, seen := range ready {
		if !seen {
			t.Errorf("fd %d never reported in 9 truncated Waits; want every ready fd reported eventually", fd)
		}
	}
}

func TestFaultAddError(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{AddError: 1}})
	m := mustMux(t, k)
	a, _ := mustPair(t, k)
	err := m.Add(a, mux.Readable)
	if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.ENOMEM) {
		t.Fatalf("Add with AddError: 1 = %v; want ENOSPC or ENOMEM", err)
	}
	if err := m.Remove(a); !errors.Is(err, mux.ErrNotAdded) {
		t.Fatalf("Remove after the failed Add = %v; want ErrNotAdded (nothing half made)", err)
	}
	k.SetFaults(fake.Faults{})
	mustAdd(t, m, a, mux.Writable)
	k.SetFaults(fake.Faults{AddError: 1})
	if err := m.Modify(a, mux.Readable); err == nil {
		t.Fatal("Modify with AddError: 1 = nil; want an error")
	}
	if got := waitFor(t, m, a, 0); got != mux.Writable {
		t.Fatalf("after the failed Modify, Wait reported %v; want the old interest's Writable", got)
	}
}

func TestFaultReset(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, b := mustTCP(t, k)
	k.Write(a, []byte("req"))
	mustAdd(t, m, b, mux.Readable)
	k.SetFaults(fake.Faults{Reset: 1})
	if _, err := k.Write(a, []byte("x")); err != syscall.ECONNRESET {
		t.Fatalf("Write with Reset: 1 = %v; want ECONNRESET", err)
	}
	k.SetFaults(fake.Faults{})
	if got, want := waitFor(t, m, b, 0), mux.Readable|mux.ReadHangup|mux.Hangup|mux.Error; got != want {
		t.Fatalf("peer of a reset connection reported %v; want %v", got, want)
	}
	buf := make([]byte, 8)
	if n, err := k.Read(b, buf); string(buf[:n]) != "req" || err != nil {
		t.Fatalf("peer Read after reset = %q, %v; want the bytes that had arrived, \"req\", first", buf[:n], err)
	}
	if _, err := k.Read(b, buf); err != syscall.ECONNRESET {
		t.Fatalf("second peer Read after reset = %v; want ECONNRESET", err)
	}
	if n, err := k.Read(b, buf); n != 0 || err != nil {
		t.Fatalf("third peer Read after reset = %d, %v; want 0, nil (EOF)", n, err)
	}
}

func TestFaultRefuse(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{Refuse: 1}})
	m := mustMux(t, k)
	l, _ := k.Listen("svc:80")
	c, _ := k.Socket()
	k.Connect(c, "svc:80")
	mustAdd(t, m, c, mux.Writable)
	if got := waitFor(t, m, c, time.Second); !got.Has(mux.Writable | mux.Error) {
		t.Fatalf("refused connect reported %v; want Writable|Error", got)
	}
	if err := k.SockErr(c); err != syscall.ECONNREFUSED {
		t.Fatalf("SockErr = %v; want ECONNREFUSED although %d listens", err, l)
	}
	if _, err := k.Accept(l); err != syscall.EAGAIN {
		t.Fatalf("Accept after a refused connect = %v; want EAGAIN", err)
	}
}

// reuseScene sets the scene of the Reuse fault on k: two connections a
// and x with a byte each for the ends the loop reads, added to a new
// Multiplexer, reported by one Wait in that order. With the fault on, x's
// number is taken at the next call.
func reuseScene(t *testing.T, k *fake.Kernel) (m *fake.Mux, a, pa, x, px int) {
	t.Helper()
	m = mustMux(t, k)
	a, pa = mustPair(t, k)
	x, px = mustPair(t, k)
	k.Write(pa, []byte("a"))
	k.Write(px, []byte("x"))
	mustAdd(t, m, a, mux.Readable)
	mustAdd(t, m, x, mux.Readable)
	evs := make([]mux.Event, 4)
	n, err := m.Wait(evs, 0)
	if err != nil || n != 2 || evs[1].FD != x {
		t.Fatalf("Wait = %v, %v; want both fds, %d second", evs[:n], err, x)
	}
	return m, a, pa, x, px
}

func TestFaultReuse(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{Reuse: 1}})
	m, a, _, x, px := reuseScene(t, k)
	k.SetFaults(fake.Faults{})
	// Handling the first event; meanwhile x was closed and its number reused.
	if n, err := k.Read(a, make([]byte, 4)); n != 1 || err != nil {
		t.Fatalf("Read(%d) = %d, %v; want 1, nil", a, n, err)
	}
	if _, err := k.Read(x, make([]byte, 4)); err != syscall.ENOTCONN {
		t.Fatalf("Read(%d) for the second event = %v; want ENOTCONN: the number now names a new socket that nothing connected", x, err)
	}
	if got := waitFor(t, m, x, 0); got != mux.Readable|mux.Hangup {
		t.Fatalf("the reused number reported %v; want Readable|Hangup, as a fresh TCP socket is", got)
	}
	if _, err := k.Read(px, make([]byte, 4)); err != syscall.ECONNRESET {
		t.Fatalf("old peer Read = %v; want ECONNRESET: its connection was closed with data unread", err)
	}
	if got := descriptors(t, k)[x]; got != "socket" {
		t.Fatalf("Descriptors()[%d] = %q; want the reused number open as a socket", x, got)
	}
}

func TestFaultEarlyWake(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{EarlyWake: 1}})
	m := mustMux(t, k)
	a, _ := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	start := k.Now()
	n, err := m.Wait(make([]mux.Event, 1), time.Second)
	if n != 0 || err != nil {
		t.Fatalf("Wait(1s) with EarlyWake: 1 = %d, %v; want 0, nil", n, err)
	}
	if got := k.Now().Sub(start); got >= time.Second {
		t.Fatalf("early wakeup after %v of virtual time; want less than the 1s timeout", got)
	}
	// Never past what is scheduled: a connect completing at +1ms still
	// completes at its instant.
	c, _ := k.Dial("nowhere:1")
	mustAdd(t, m, c, mux.Writable)
	start = k.Now()
	for range 20 {
		m.Wait(make([]mux.Event, 1), time.Second)
		if k.Now().Sub(start) >= time.Millisecond {
			t.Fatalf("an early wakeup moved the clock %v, to or past the connect due at +1ms", k.Now().Sub(start))
		}
	}
	k.SetFaults(fake.Faults{})
	m.Wait(make([]mux.Event, 1), time.Second)
	if err := k.SockErr(c); err != syscall.ECONNREFUSED || k.Now().Sub(start) != time.Millisecond {
		t.Errorf("SockErr of the connect to nowhere = %v at +%v; want it refused at +1ms", err, k.Now().Sub(start))
	}
}

func TestFaultScheduled(t *testing.T) {
	k := fake.New(fake.Config{})
	a, b := mustPair(t, k)
	k.After(time.Second, func() { k.SetFaults(fake.Faults{ShortWrite: 1}) })
	if n, _ := k.Write(a, make([]byte, 10)); n != 10 {
		t.Fatalf("Write before the scheduled fault = %d; want 10", n)
	}
	k.Advance(time.Second)
	if n, _ := k.Write(a, make([]byte, 10)); n >= 10 {
		t.Fatalf("Write after the fault scheduled at +1s = %d; want a short write", n)
	}
	_ = b
}

func TestBusyLoop(t *testing.T) {
	k := fake.New(fake.Config{BusyLoop: 10})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	k.Close(b) // a is at EOF, and stays readable
	// The buggy loop: it sees Readable, reads the end of file, but never
	// closes or removes a.
	evs := make([]mux.Event, 4)
	var err error
	waits := 0
	for ; waits < 20 && err == nil; waits++ {
		_, err = m.Wait(evs, time.Second)
		k.Read(a, make([]byte, 8))
	}
	var bl *fake.BusyLoopError
	if !errors.As(err, &bl) || waits != 10 {
		t.Fatalf("Wait #%d at EOF = %v; want the 10th to fail with a *BusyLoopError", waits, err)
	}
	if bl.FD != -1 || len(bl.Events) != 1 || bl.Events[0].FD != a || bl.Waits != 10 {
		t.Fatalf("BusyLoopError = %+v; want 10 Waits with no progress reporting fd %d", bl, a)
	}
	if !strings.Contains(err.Error(), "read fd=") {
		t.Errorf("busy-loop error %q; want it to name the calls the loop made between Waits", err)
	}
	if _, again := m.Wait(evs, 0); !errors.As(again, &bl) {
		t.Errorf("Wait after a busy loop = %v; want the same error again", again)
	}
	if got := k.BusyLoop(); !errors.As(got, &bl) {
		t.Errorf("BusyLoop() = %v; want the *BusyLoopError", got)
	}
}

// TestBusyLoopIgnoredDescriptor: a loop that handles only the first event
// of each batch (the blog's break) while that descriptor stays ready never
// handles the second, although it makes progress.
func TestBusyLoopIgnoredDescriptor(t *testing.T) {
	k := fake.New(fake.Config{BusyLoop: 10})
	m := mustMux(t, k)
	a, pa := mustPair(t, k)
	x, px := mustPair(t, k)
	k.Write(pa, make([]byte, 4096))
	k.Write(px, []byte("starved"))
	mustAdd(t, m, a, mux.Readable)
	mustAdd(t, m, x, mux.Readable)
	evs := make([]mux.Event, 4)
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		var n int
		n, err = m.Wait(evs, time.Second)
		if n > 0 {
			k.Read(evs[0].FD, make([]byte, 16)) // break after the first event
		}
	}
	var bl *fake.BusyLoopError
	if !errors.As(err, &bl) || bl.FD != x || bl.Waits != 10 || bl.Closed {
		t.Fatalf("Waits of a loop that handles only the first event = %v (%+v); want a *BusyLoopError naming fd %d after 10 Waits", err, bl, x)
	}
}

// TestBusyLoopClosedWhileAdded: a descriptor closed without Remove is
// reported with Error until removed; a loop that does not know it is
// told so.
func TestBusyLoopClosedWhileAdded(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, _ := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	k.Close(a)
	var err error
	for i := 0; i < 2*fake.DefaultBusyLoop && err == nil; i++ {
		_, err = m.Wait(make([]mux.Event, 4), time.Millisecond)
	}
	var bl *fake.BusyLoopError
	if !errors.As(err, &bl) || bl.FD != a || !bl.Closed || !strings.Contains(err.Error(), "Remove it before closing it") {
		t.Fatalf("Waits on a descriptor closed while added = %v; want a *BusyLoopError that says fd %d was closed while added", err, a)
	}
}

func TestBusyLoopNotForProgress(t *testing.T) {
	k := fake.New(fake.Config{BusyLoop: 10})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	buf := make([]byte, 1)
	for range 30 { // the same report each time, but data moves
		k.Write(b, []byte("x"))
		waitFor(t, m, a, time.Second)
		k.Read(a, buf)
	}
	for range 30 { // nothing ready, but time passes
		waitFor(t, m, a, time.Millisecond)
	}
	if err := k.BusyLoop(); err != nil {
		t.Fatalf("BusyLoop() for a loop that moves data or waits = %v; want nil", err)
	}
}
