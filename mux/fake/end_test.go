package fake_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// failures is a testing.TB that keeps the failures of a check.
type failures struct {
	testing.TB
	msgs []string
}

func (f *failures) Helper() {}
func (f *failures) Errorf(format string, a ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, a...))
}
func (f *failures) Fatal(a ...any) { f.msgs = append(f.msgs, fmt.Sprint(a...)) }

// TestEndReportsLeftovers: End lists what a run left, kind by kind, and
// a run that cleans up leaves nothing.
func TestEndReportsLeftovers(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{Reset: 0.5, Refuse: 1, Nth: 1000}}) // never reached: neither fires
	m, _ := k.NewMux()
	a, b := mustPair(t, k)     // a: closed while added; b: the other end closed
	x, y := mustPair(t, k)     // y: 5 bytes unread; x: shut down writing
	lfd, _ := k.Listen("db:1") // a connection never accepted
	c, _ := k.Dial("db:1")     //
	mustAdd(t, m, a, mux.Readable)
	mustAdd(t, m, c, mux.Writable)
	k.Close(a)
	k.Write(x, []byte("hello"))
	k.Shutdown(x, fake.ShutWrite)
	k.Advance(time.Second)

	e := k.End()
	got := fmt.Sprint(e.Open, e.Added, e.Unread, e.HalfClosed, e.Unfired)
	want := fmt.Sprint(
		[]fake.Leftover{
			{FD: 3, What: "multiplexer"},
			{FD: b, What: "socket, the other end closed"},
			{FD: x, What: "socket, connected"},
			{FD: y, What: "socket, connected"},
			{FD: lfd, What: "listener"},
			{FD: c, What: "socket, connected"},
		},
		[]fake.Leftover{
			{FD: a, What: "added to fd 3 for Readable, closed while added"},
			{FD: c, What: "added to fd 3 for Writable"},
		},
		[]fake.Leftover{
			{FD: y, N: 5, What: "5 bytes never read"},
			{FD: lfd, N: 1, What: "1 connections never accepted"},
		},
		[]fake.Leftover{
			{FD: b, What: "the other end closed; this end never closed"},
			{FD: x, What: "shut down writing; the other end never did"},
			{FD: y, What: "the other end shut down writing; this end never did"},
		},
		[]string{"reset", "refuse"},
	)
	if got != want {
		t.Errorf("End() =\n%s\nwant\n%s", got, want)
	}
	if e.Clean() {
		t.Error("End().Clean() = true for a run that left all that")
	}

	var f failures
	fake.CheckClean(&f, k)
	if len(f.msgs) != 1 || !strings.Contains(f.msgs[0], "descriptors left open:\n\tfd 3: multiplexer\n") || !strings.Contains(f.msgs[0], "never fired (the test proved nothing about them): reset, refuse") {
		t.Errorf("CheckClean failed with %q; want one failure listing the leftovers", f.msgs)
	}
	f.msgs = nil
	fake.CheckClean(&f, k, fake.AllowFDs(m.FD(), a, b, x, y, c, lfd), fake.AllowUnfired("reset", "refuse"))
	if len(f.msgs) != 0 {
		t.Errorf("CheckClean with every leftover allowed failed: %q", f.msgs)
	}

	for _, fd := range []int{b, x, y, c, lfd} {
		k.Close(fd)
	}
	m.Close()
	if fd := m.FD(); fd != -1 {
		t.Errorf("FD() of a closed Multiplexer = %d; want -1", fd)
	}
	k.Advance(time.Second)
	f.msgs = nil
	fake.CheckClean(&f, k, fake.AllowUnfired())
	if len(f.msgs) != 0 {
		t.Errorf("CheckClean after everything was closed failed: %q", f.msgs)
	}
}

// TestEndPeers: what peers leave is theirs, marked so, and AllowPeers
// allows it.
func TestEndPeers(t *testing.T) {
	k := fake.New(fake.Config{})
	lfd, _ := k.Serve("api:80", func(fd int) fake.Handler {
		return func(fd int, ev mux.Events) {} // reads nothing, never closes
	})
	c, _ := k.Dial("api:80")
	k.Advance(time.Millisecond)
	k.Write(c, []byte("hi"))
	k.Close(c)
	k.Advance(time.Millisecond)
	e := k.End()
	if len(e.Open) != 2 || !e.Open[0].Peer || e.Open[0].FD != lfd || !e.Open[1].Peer {
		t.Errorf("End().Open = %v; want the served listener and the served connection, both a peer's", e.Open)
	}
	var f failures
	fake.CheckClean(&f, k, fake.AllowPeers())
	if len(f.msgs) != 0 {
		t.Errorf("CheckClean with AllowPeers failed: %q", f.msgs)
	}
}

// TestConserveEcho: an echo loop that resends what it had written is
// caught at the first byte it sent twice, with its offset in the stream;
// one that stops early is caught at the end, with the bytes never
// echoed.
func TestConserveEcho(t *testing.T) {
	k := fake.New(fake.Config{})
	c, s := mustPair(t, k) // c: the test's client; s: the loop's end
	if err := k.Conserve(c, c); err != nil {
		t.Fatalf("Conserve(%d, %d) = %v", c, c, err)
	}
	k.Write(c, []byte("abcdef"))
	buf := make([]byte, 16)
	n, _ := k.Read(s, buf)
	k.Write(s, buf[:3]) // a short write…
	k.Write(s, buf[:n]) // …then the whole again: the bug
	k.Read(c, buf)      // "abcabcdef"
	vs := k.End().Violations
	if len(vs) != 1 || vs[0].Kind != "conservation" || vs[0].Offset != 3 || vs[0].FD != c || vs[0].Call.Op != "read" {
		t.Fatalf("End().Violations = %v; want one: the read of fd %d, wrong at offset 3", vs, c)
	}
	if !strings.Contains(vs[0].Msg, `read "abcdef" at offset 3`) || !strings.Contains(vs[0].Msg, `wrote "def"`) {
		t.Errorf("the violation says %q; want what was read and what was written at offset 3", vs[0].Msg)
	}

	k = fake.New(fake.Config{})
	c, s = mustPair(t, k)
	k.Conserve(c, c)
	k.Write(c, []byte("abcdef"))
	if n, _ := k.Read(s, buf); n != 6 {
		t.Fatalf("the loop's end read %d bytes; want the 6 written", n)
	}
	k.Write(s, buf[:4]) // echoes 4 of 6, then closes
	k.Close(s)
	k.Read(c, buf)
	vs = k.End().Violations
	if len(vs) != 1 || vs[0].Offset != 4 || vs[0].Call.Seq != 0 || !strings.Contains(vs[0].Msg, "2 bytes written on fd") {
		t.Fatalf("End().Violations after an echo cut short = %v; want the 2 bytes from offset 4 never read", vs)
	}

	k = fake.New(fake.Config{})
	c, s = mustPair(t, k)
	k.Conserve(c, c)
	k.Write(c, []byte("abcdef"))
	k.Reset(s) // a reset cuts the way: the bytes left are not owed
	if vs := k.End().Violations; len(vs) != 0 {
		t.Errorf("End().Violations after a reset = %v; want none", vs)
	}
}

// TestConserveUnderFaults: the correct echo loop conserves every client's
// stream under the faults it survives.
func TestConserveUnderFaults(t *testing.T) {
	fake.Seeds(t, 20, func(t *testing.T, seed uint64) {
		k := fake.New(fake.Config{Seed: seed, Buffer: 1024, Shuffle: true, Faults: benign})
		conserved := 0
		res := runEchoWith(k, 4, 5000, func(fd int) {
			if err := k.Conserve(fd, fd); err == nil {
				conserved++
			}
		})
		if res.ok != 4 || conserved != 4 {
			t.Fatalf("echo loop: %d of 4 clients done (%q), %d streams declared", res.ok, res.errs, conserved)
		}
		fake.CheckClean(t, k, fake.AllowUnfired("early-wake"))
	})
}

// TestStaleUse: a call on a number the Reuse fault gave away, on the
// strength of an event about the old file, is reported with the event
// and the reuse; a close of it, or a new Wait, ends it.
func TestStaleUse(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{Reuse: 1, Nth: 1}})
	m, a, pa, x, px := reuseScene(t, k) // [a, x]: x's number is taken at the next call
	evs := make([]mux.Event, 4)
	k.Read(a, make([]byte, 4)) // handles a
	k.Read(x, make([]byte, 4)) // handles x: stale
	m.Modify(x, mux.Writable)  // stale too
	m.Wait(evs, 0)             // what it reports now is about the new socket
	k.Read(x, make([]byte, 4)) // not stale
	vs := k.End().Violations
	if len(vs) != 2 {
		t.Fatalf("End().Violations = %v; want the read and the modify of fd %d", vs, x)
	}
	v := vs[0]
	if v.Kind != "stale" || v.FD != x || v.Call.Op != "read" || v.Event.Op != "wait" || v.Reused.Op != "reused" ||
		fmt.Sprint(v.Event.Events) != fmt.Sprintf("[fd %d: Readable]", x) || !(v.Event.Seq < v.Reused.Seq && v.Reused.Seq < v.Call.Seq) {
		t.Errorf("the violation = %+v; want the read of fd %d, after the wait that reported it and the reuse, in that order", v, x)
	}
	if vs[1].Call.Op != "modify" {
		t.Errorf("the second violation = %v; want the modify", vs[1])
	}
	var f failures
	fake.CheckClean(&f, k, fake.AllowStale(), fake.AllowFDs(a, pa, x, px, 3))
	if len(f.msgs) != 0 {
		t.Errorf("CheckClean with AllowStale failed: %q", f.msgs)
	}

	// A loop that removes and closes the number first is not reported.
	k = fake.New(fake.Config{Faults: fake.Faults{Reuse: 1, Nth: 1}})
	m, _, _, x, _ = reuseScene(t, k)
	m.Remove(x)
	k.Close(x)
	k.Read(x, make([]byte, 4)) // EBADF: the number is no longer the loop's to use, but nothing else has it
	if vs := k.End().Violations; len(vs) != 0 {
		t.Errorf("End().Violations after Remove and Close = %v; want none", vs)
	}
}
