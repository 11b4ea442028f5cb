package fake_test

import (
	"errors"
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

func mustPair(t *testing.T, k *fake.Kernel) (int, int) {
	t.Helper()
	a, b, err := k.Pair()
	if err != nil {
		t.Fatalf("Pair() = %v; want nil", err)
	}
	return a, b
}

func mustMux(t *testing.T, k *fake.Kernel) *fake.Mux {
	t.Helper()
	m, err := k.NewMux()
	if err != nil {
		t.Fatalf("NewMux() = %v; want nil", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func mustAdd(t *testing.T, m mux.Multiplexer, fd int, ev mux.Events) {
	t.Helper()
	if err := m.Add(fd, ev); err != nil {
		t.Fatalf("Add(%d, %v) = %v; want nil", fd, ev, err)
	}
}

// waitFor returns what fd was reported as by one Wait, or 0.
func waitFor(t *testing.T, m mux.Multiplexer, fd int, timeout time.Duration) mux.Events {
	t.Helper()
	evs := make([]mux.Event, 16)
	n, err := m.Wait(evs, timeout)
	if err != nil {
		t.Fatalf("Wait(%v) = %v; want nil", timeout, err)
	}
	for _, ev := range evs[:n] {
		if ev.FD == fd {
			return ev.Events
		}
	}
	return 0
}

func TestLowestFreeDescriptor(t *testing.T) {
	k := fake.New(fake.Config{})
	a, b := mustPair(t, k)
	r, w, err := k.Pipe()
	if err != nil {
		t.Fatalf("Pipe() = %v", err)
	}
	if a != 3 || b != 4 || r != 5 || w != 6 {
		t.Fatalf("Pair, Pipe = %d %d %d %d; want 3 4 5 6 (0–2 are stdio, lowest free first)", a, b, r, w)
	}
	if err := k.Close(b); err != nil {
		t.Fatalf("Close(%d) = %v", b, err)
	}
	fd, err := k.Socket()
	if err != nil || fd != b {
		t.Fatalf("Socket() after Close(%d) = %d, %v; want the number %d reused", b, fd, err, b)
	}
	if err := k.Close(b); err != nil {
		t.Fatalf("Close(%d) = %v", b, err)
	}
	if err := k.Close(b); err != syscall.EBADF {
		t.Fatalf("second Close(%d) = %v; want EBADF", b, err)
	}
	if _, err := k.Read(b, make([]byte, 1)); err != syscall.EBADF {
		t.Fatalf("Read of closed fd = %v; want EBADF", err)
	}
	if _, err := k.Write(99, []byte("x")); err != syscall.EBADF {
		t.Fatalf("Write of never-opened fd = %v; want EBADF", err)
	}
}

func TestStreamSemantics(t *testing.T) {
	k := fake.New(fake.Config{Buffer: 10})
	a, b := mustPair(t, k)
	buf := make([]byte, 16)
	if _, err := k.Read(a, buf); err != syscall.EAGAIN {
		t.Fatalf("Read of empty socket = %v; want EAGAIN", err)
	}
	if n, err := k.Write(b, []byte("0123456")); n != 7 || err != nil {
		t.Fatalf("Write(7 bytes) into an empty 10-byte buffer = %d, %v; want 7, nil", n, err)
	}
	if n, err := k.Write(b, []byte("789abc")); n != 3 || err != nil {
		t.Fatalf("Write(6 bytes) with 3 free = %d, %v; want a short write 3, nil", n, err)
	}
	if n, err := k.Write(b, []byte("x")); n != 0 || err != syscall.EAGAIN {
		t.Fatalf("Write to a full buffer = %d, %v; want 0, EAGAIN", n, err)
	}
	if n, err := k.Read(a, buf[:4]); n != 4 || err != nil || string(buf[:4]) != "0123" {
		t.Fatalf("Read(4) = %d, %v, %q; want 4, nil, \"0123\"", n, err, buf[:n])
	}
	if err := k.Shutdown(b, fake.ShutWrite); err != nil {
		t.Fatalf("Shutdown(SHUT_WR) = %v", err)
	}
	if _, err := k.Write(b, []byte("x")); err != syscall.EPIPE {
		t.Fatalf("Write after own SHUT_WR = %v; want EPIPE", err)
	}
	if n, err := k.Read(a, buf); n != 6 || err != nil || string(buf[:6]) != "456789" {
		t.Fatalf("Read after peer SHUT_WR = %d, %v, %q; want the rest \"456789\" first", n, err, buf[:n])
	}
	for range 2 {
		if n, err := k.Read(a, buf); n != 0 || err != nil {
			t.Fatalf("Read at EOF = %d, %v; want 0, nil (sticky)", n, err)
		}
	}
	// a can still write: a half-closed connection.
	if n, err := k.Write(a, []byte("hi")); n != 2 || err != nil {
		t.Fatalf("Write on the other direction = %d, %v; want 2, nil", n, err)
	}
	if err := k.Close(b); err != nil {
		t.Fatalf("Close = %v", err)
	}
	// b closed with "hi" unread: as on Linux's AF_UNIX, a's writes fail
	// with EPIPE, and its read returns ECONNRESET once.
	if _, err := k.Write(a, []byte("x")); err != syscall.EPIPE {
		t.Fatalf("Write after the peer closed with unread data = %v; want EPIPE", err)
	}
	if _, err := k.Read(a, buf); err != syscall.ECONNRESET {
		t.Fatalf("Read after the peer closed with unread data = %v; want ECONNRESET", err)
	}
}

func TestPeerCloseReadiness(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable|mux.Writable)
	if got := waitFor(t, m, a, 0); got != mux.Writable {
		t.Fatalf("idle socket reported %v; want Writable", got)
	}
	k.Shutdown(b, fake.ShutWrite)
	if got, want := waitFor(t, m, a, 0), mux.Readable|mux.Writable|mux.ReadHangup; got != want {
		t.Fatalf("after peer SHUT_WR: %v; want %v", got, want)
	}
	k.Close(b)
	if got, want := waitFor(t, m, a, 0), mux.Readable|mux.Writable|mux.ReadHangup|mux.Hangup; got != want {
		t.Fatalf("after peer close: %v; want %v", got, want)
	}

	// Closing with unread data resets the peer, as on Linux.
	c, d := mustPair(t, k)
	k.Write(c, []byte("unread"))
	mustAdd(t, m, c, mux.Readable)
	k.Close(d)
	if got := waitFor(t, m, c, 0); !got.Has(mux.Error | mux.Hangup) {
		t.Fatalf("peer closed with unread data: %v; want Error|Hangup", got)
	}
	if _, err := k.Read(c, make([]byte, 8)); err != syscall.ECONNRESET {
		t.Fatalf("Read after peer closed with unread data = %v; want ECONNRESET", err)
	}
}

func TestPipe(t *testing.T) {
	k := fake.New(fake.Config{Buffer: 8192})
	r, w, _ := k.Pipe()
	if _, err := k.Write(r, []byte("x")); err != syscall.EBADF {
		t.Fatalf("Write to a pipe's read end = %v; want EBADF", err)
	}
	if n, err := k.Write(w, make([]byte, 5000)); n != 5000 || err != nil {
		t.Fatalf("Write(5000) = %d, %v; want 5000, nil", n, err)
	}
	if n, err := k.Write(w, make([]byte, 4000)); n != 0 || err != syscall.EAGAIN {
		t.Fatalf("Write(4000) with 3192 free = %d, %v; want EAGAIN (writes up to PIPE_BUF are atomic)", n, err)
	}
	if n, err := k.Write(w, make([]byte, 5000)); n != 3192 || err != nil {
		t.Fatalf("Write(5000) with 3192 free = %d, %v; want a short write of 3192", n, err)
	}
	m := mustMux(t, k)
	mustAdd(t, m, w, mux.Writable)
	k.Close(r)
	if got := waitFor(t, m, w, 0); got != mux.Writable|mux.Error {
		t.Fatalf("pipe with no reader: %v; want Writable|Error", got)
	}
	if _, err := k.Write(w, []byte("x")); err != syscall.EPIPE {
		t.Fatalf("Write with no reader = %v; want EPIPE", err)
	}
}

func TestConnect(t *testing.T) {
	k := fake.New(fake.Config{Latency: 5 * time.Millisecond})
	m := mustMux(t, k)
	l, err := k.Listen("db:5432")
	if err != nil {
		t.Fatalf("Listen = %v", err)
	}
	if _, err := k.Listen("db:5432"); err != syscall.EADDRINUSE {
		t.Fatalf("second Listen on the same address = %v; want EADDRINUSE", err)
	}
	mustAdd(t, m, l, mux.Readable)
	c, _ := k.Socket()
	if err := k.Connect(c, "db:5432"); err != syscall.EINPROGRESS {
		t.Fatalf("Connect = %v; want EINPROGRESS", err)
	}
	if err := k.Connect(c, "db:5432"); err != syscall.EALREADY {
		t.Fatalf("second Connect = %v; want EALREADY", err)
	}
	if _, err := k.Write(c, []byte("x")); err != syscall.EAGAIN {
		t.Fatalf("Write while connecting = %v; want EAGAIN", err)
	}
	mustAdd(t, m, c, mux.Writable)
	start := k.Now()
	evs := make([]mux.Event, 4)
	n, err := m.Wait(evs, time.Second)
	if err != nil || n != 2 || evs[0] != (mux.Event{FD: l, Events: mux.Readable}) || evs[1] != (mux.Event{FD: c, Events: mux.Writable}) {
		t.Fatalf("Wait(1s) during connect = %v, %v; want listener Readable and client Writable", evs[:n], err)
	}
	if got := k.Now().Sub(start); got != 5*time.Millisecond {
		t.Fatalf("connect completed after %v of virtual time; want exactly the 5ms latency", got)
	}
	if err := k.SockErr(c); err != nil {
		t.Fatalf("SockErr after connect = %v; want nil", err)
	}
	s, err := k.Accept(l)
	if err != nil {
		t.Fatalf("Accept = %v", err)
	}
	if _, err := k.Accept(l); err != syscall.EAGAIN {
		t.Fatalf("second Accept = %v; want EAGAIN", err)
	}
	k.Write(c, []byte("ping"))
	buf := make([]byte, 8)
	if n, err := k.Read(s, buf); string(buf[:n]) != "ping" || err != nil {
		t.Fatalf("accepted side read %q, %v; want \"ping\"", buf[:n], err)
	}

	// Nobody listening: refused after the latency.
	m.Remove(c)
	d, _ := k.Socket()
	k.Connect(d, "nowhere:1")
	mustAdd(t, m, d, mux.Writable)
	if got := waitFor(t, m, d, -1); got != mux.Writable|mux.Hangup|mux.Error {
		t.Fatalf("refused connect reported %v; want Writable|Hangup|Error (no ReadHangup without Readable interest)", got)
	}
	if err := k.SockErr(d); err != syscall.ECONNREFUSED {
		t.Fatalf("SockErr after refused connect = %v; want ECONNREFUSED", err)
	}
	if err := k.SockErr(d); err != nil {
		t.Fatalf("second SockErr = %v; want nil (SO_ERROR is cleared when read)", err)
	}
}

func TestUrgent(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable|mux.Priority)
	if err := k.Urgent(b); err != nil {
		t.Fatalf("Urgent = %v", err)
	}
	if got := waitFor(t, m, a, 0); got != mux.Readable|mux.Priority {
		t.Fatalf("after urgent data: %v; want Readable|Priority", got)
	}
	buf := make([]byte, 4)
	if n, _ := k.Read(a, buf); n != 1 || buf[0] != '!' {
		t.Fatalf("Read = %q; want the urgent byte in line", buf[:n])
	}
	if got := waitFor(t, m, a, 0); got != 0 {
		t.Fatalf("after reading the urgent byte: %v; want nothing", got)
	}
}

func TestVirtualClock(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	start, real := k.Now(), time.Now()
	if got := waitFor(t, m, a, 30*time.Minute); got != 0 {
		t.Fatalf("Wait(30m) on an idle socket reported %v; want nothing", got)
	}
	if got := k.Now().Sub(start); got != 30*time.Minute {
		t.Fatalf("Wait(30m) moved the virtual clock by %v; want exactly 30m", got)
	}
	if r := time.Since(real); r > time.Second {
		t.Fatalf("Wait(30m) took %v of real time; want it to jump, not sleep", r)
	}
	// Readiness scheduled at a virtual instant stops the jump there.
	k.After(3*time.Second, func() { k.Write(b, []byte("late")) })
	start = k.Now()
	if got := waitFor(t, m, a, time.Minute); got != mux.Readable {
		t.Fatalf("Wait(1m) with a write scheduled at +3s reported %v; want Readable", got)
	}
	if got := k.Now().Sub(start); got != 3*time.Second {
		t.Fatalf("Wait returned after %v of virtual time; want 3s, when the write was scheduled", got)
	}
	// Advance runs what is due.
	ran := false
	k.At(k.Now().Add(time.Millisecond), func() { ran = true })
	k.Advance(time.Millisecond)
	if !ran {
		t.Fatal("Advance(1ms) did not run the function scheduled at +1ms")
	}
}

func TestWaitBlocksUntilOtherGoroutine(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	done := make(chan mux.Events, 1)
	go func() {
		evs := make([]mux.Event, 4)
		n, err := m.Wait(evs, -1)
		if err != nil || n != 1 {
			done <- 0
			return
		}
		done <- evs[0].Events
	}()
	select {
	case <-done:
		t.Fatal("Wait(-1) with nothing ready or scheduled returned; want it to block")
	case <-time.After(20 * time.Millisecond):
	}
	k.Write(b, []byte("x"))
	select {
	case got := <-done:
		if got != mux.Readable {
			t.Fatalf("Wait(-1) woken by a write returned %v; want Readable", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait(-1) did not return after a write from another goroutine")
	}
}

func TestSetReady(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, _ := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	k.SetReady(a, mux.Readable|mux.Hangup)
	if got := waitFor(t, m, a, 0); got != mux.Readable|mux.Hangup {
		t.Fatalf("after SetReady(Readable|Hangup): %v; want Readable|Hangup", got)
	}
	if _, err := k.Read(a, make([]byte, 1)); err != syscall.EAGAIN {
		t.Fatalf("Read after forced readiness = %v; want EAGAIN (nothing is really there)", err)
	}
	k.SetReady(a, 0)
	if got := waitFor(t, m, a, 0); got != 0 {
		t.Fatalf("after SetReady(0): %v; want nothing", got)
	}
}

func TestMuxDescriptorReleased(t *testing.T) {
	k := fake.New(fake.Config{})
	before := len(descriptors(t, k))
	m, _ := k.NewMux()
	if got := len(descriptors(t, k)); got != before+1 {
		t.Fatalf("NewMux opened %d descriptors; want 1", got-before)
	}
	m.Close()
	if got := len(descriptors(t, k)); got != before {
		t.Fatalf("after Close, %d descriptors open; want %d", got, before)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close = %v; want nil", err)
	}
	if _, err := m.Wait(make([]mux.Event, 1), 0); !errors.Is(err, mux.ErrClosed) {
		t.Fatalf("Wait after Close = %v; want ErrClosed", err)
	}
}

func TestFileDescriptor(t *testing.T) {
	k := fake.New(fake.Config{})
	f, err := k.File()
	if err != nil {
		t.Fatalf("File() = %v", err)
	}
	k.Write(f, []byte("abc"))
	if n, err := k.Read(f, make([]byte, 4)); n != 0 || err != nil {
		t.Fatalf("Read at end of file = %d, %v; want 0, nil", n, err)
	}
}

func descriptors(t *testing.T, k *fake.Kernel) map[int]string {
	t.Helper()
	d, err := k.Descriptors()
	if err != nil {
		t.Fatalf("Descriptors() = %v; want no error", err)
	}
	return d
}

// mustTCP returns the two ends of a TCP connection: the client's, from
// Dial, and the server's, from Accept.
func mustTCP(t *testing.T, k *fake.Kernel) (client, server int) {
	t.Helper()
	addr := fmt.Sprintf("tcp-%d:80", k.Elapsed())
	l, err := k.Listen(addr)
	if err != nil {
		t.Fatalf("Listen(%q) = %v", addr, err)
	}
	c, err := k.Dial(addr)
	if err != nil {
		t.Fatalf("Dial(%q) = %v", addr, err)
	}
	k.Advance(fake.DefaultLatency)
	s, err := k.Accept(l)
	if err != nil {
		t.Fatalf("Accept after the connect = %v", err)
	}
	k.Close(l)
	return c, s
}

// TestHugeBadDescriptor: a call on a number the kernel never gave out is
// EBADF at once, whatever the number, and makes no room for it (the trace
// once grew a table to the number before the call was refused).
func TestHugeBadDescriptor(t *testing.T) {
	k := fake.New(fake.Config{})
	m, err := k.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const huge = math.MaxInt >> 8 // 1<<55 or so, 1<<23 where int has 32 bits
	for _, fd := range []int{100_000, 1 << 30, huge, math.MaxInt} {
		if err := m.Add(fd, mux.Readable); !errors.Is(err, mux.ErrBadFD) {
			t.Errorf("Add(%d) = %v; want ErrBadFD", fd, err)
		}
		if _, err := k.Read(fd, make([]byte, 1)); err != syscall.EBADF {
			t.Errorf("Read(%d) = %v; want EBADF", fd, err)
		}
	}
	if allocs := testing.AllocsPerRun(10, func() { m.Add(huge, mux.Readable) }); allocs > 2 {
		t.Errorf("Add(%d) allocated %v times; want only its error", huge, allocs)
	}
}
