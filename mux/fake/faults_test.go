package fake_test

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
	if _, err := k.Read(a, make([]byte, 1)); err != unix.EAGAIN {
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
	if _, err := k.Read(a, make([]byte, 8)); err != unix.EAGAIN {
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
	if !errors.Is(err, unix.ENOSPC) && !errors.Is(err, unix.ENOMEM) {
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
	k := fake.New(fake.Config{Faults: fake.Faults{Reset: 1}})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, b, mux.Readable)
	if _, err := k.Write(a, []byte("x")); err != unix.ECONNRESET {
		t.Fatalf("Write with Reset: 1 = %v; want ECONNRESET", err)
	}
	if got := waitFor(t, m, b, 0); !got.Has(mux.Readable | mux.Hangup | mux.Error) {
		t.Fatalf("peer of a reset connection reported %v; want Readable|Hangup|Error", got)
	}
	if _, err := k.Read(b, make([]byte, 1)); err != unix.ECONNRESET {
		t.Fatalf("peer Read after reset = %v; want ECONNRESET", err)
	}
	if n, err := k.Read(b, make([]byte, 1)); n != 0 || err != nil {
		t.Fatalf("second peer Read after reset = %d, %v; want 0, nil (EOF)", n, err)
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
	if e, _ := k.SockErr(c); e != unix.ECONNREFUSED {
		t.Fatalf("SockErr = %v; want ECONNREFUSED although %d listens", e, l)
	}
	if _, err := k.Accept(l); err != unix.EAGAIN {
		t.Fatalf("Accept after a refused connect = %v; want EAGAIN", err)
	}
}

func TestFaultReuse(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{Reuse: 1}})
	m := mustMux(t, k)
	a, pa := mustPair(t, k)
	x, px := mustPair(t, k)
	k.Write(pa, []byte("a"))
	k.Write(px, []byte("x"))
	mustAdd(t, m, a, mux.Readable)
	mustAdd(t, m, x, mux.Readable)
	evs := make([]mux.Event, 4)
	n, err := m.Wait(evs, 0)
	if err != nil || n != 2 || evs[1].FD != x {
		t.Fatalf("Wait = %v, %v; want both fds, %d second", evs[:n], err, x)
	}
	k.SetFaults(fake.Faults{})
	// Handling the first event; meanwhile x was closed and its number reused.
	if n, err := k.Read(a, make([]byte, 4)); n != 1 || err != nil {
		t.Fatalf("Read(%d) = %d, %v; want 1, nil", a, n, err)
	}
	if _, err := k.Read(x, make([]byte, 4)); err != unix.EAGAIN {
		t.Fatalf("Read(%d) for the second event = %v; want EAGAIN: the number now names a new, idle socket", x, err)
	}
	if _, err := k.Read(px, make([]byte, 4)); err != unix.ECONNRESET {
		t.Fatalf("old peer Read = %v; want ECONNRESET: its connection was closed with data unread", err)
	}
	if got := k.Descriptors()[x]; got != "socket" {
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
	// The buggy loop: it sees Readable but neither reads EOF nor removes a.
	for range 20 {
		waitFor(t, m, a, time.Second)
	}
	var bl *fake.BusyLoopError
	if err := k.BusyLoop(); !errors.As(err, &bl) {
		t.Fatalf("BusyLoop() after 20 identical Waits at EOF = %v; want a *BusyLoopError", err)
	}
	if len(bl.Events) != 1 || bl.Events[0].FD != a || bl.Waits < 10 {
		t.Fatalf("BusyLoopError = %+v; want %d Waits or more reporting fd %d", bl, 10, a)
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
