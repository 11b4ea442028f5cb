package fake_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// sinkLoop is the code under test of the modes tests: a server that
// accepts connections on lfd and reads what they send until end of
// stream, in a loop over m, with the given modes for its connections
// (and the listener edge-triggered if they are). With untilEAGAIN false
// it makes one read of at most 512 bytes per report — right under level
// triggering, the classic bug under edges. It returns when one
// connection has been read to its end, with the bytes it read, or when a
// Wait fails.
func sinkLoop(k *fake.Kernel, m *fake.Mux, lfd int, modes mux.Events, untilEAGAIN bool) ([]byte, error) {
	if err := m.Add(lfd, mux.Readable|modes&mux.EdgeTriggered); err != nil {
		return nil, err
	}
	var got []byte
	events := make([]mux.Event, 8)
	buf := make([]byte, 512)
	for {
		n, err := m.Wait(events, time.Second)
		if err != nil {
			return got, err
		}
		for _, ev := range events[:n] {
			if ev.FD == lfd {
				for { // accept until EAGAIN: the listener is edge-triggered too
					fd, err := k.Accept(lfd)
					if err != nil {
						break
					}
					if err := m.Add(fd, mux.Readable|modes); err != nil {
						return got, err
					}
				}
				continue
			}
			for {
				n, err := k.Read(ev.FD, buf)
				if err == syscall.EAGAIN {
					break
				}
				if err != nil || n == 0 {
					m.Remove(ev.FD)
					k.Close(ev.FD)
					return got, err
				}
				got = append(got, buf[:n]...)
				if !untilEAGAIN {
					break
				}
			}
		}
	}
}

// sendAndClose is the peer: it connects to addr, writes payload in one
// write once connected, and shuts its writing side.
func sendAndClose(k *fake.Kernel, addr string, payload []byte) (int, error) {
	fd, err := k.Dial(addr)
	if err != nil {
		return -1, err
	}
	sent := false
	return fd, k.Handle(fd, func(fd int, ev mux.Events) {
		if !sent && ev.Has(mux.Writable) {
			sent = true
			k.Write(fd, payload)
			k.Shutdown(fd, fake.ShutWrite)
		}
	})
}

// TestEdgeTriggeredReadBeforeEAGAIN runs one loop, which reads once per
// report, under seeds of faults a correct loop survives: level-triggered
// it reads everything; edge-triggered it stalls, and the fake says why,
// naming the descriptor, its unread bytes and the rule it broke. A loop
// that reads until EAGAIN passes both ways.
func TestEdgeTriggeredReadBeforeEAGAIN(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 125) // 2000 bytes, one write
	for _, tc := range []struct {
		name        string
		modes       mux.Events
		untilEAGAIN bool
		stalls      bool
	}{
		{"level-triggered, one read per report", 0, false, false},
		{"edge-triggered, one read per report", mux.EdgeTriggered, false, true},
		{"edge-triggered, reads until EAGAIN", mux.EdgeTriggered, true, false},
		{"one-shot, one read per report, never re-armed", mux.OneShot, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.Seeds(t, 30, func(t *testing.T, seed uint64) {
				k := fake.New(fake.Config{Seed: seed, Shuffle: true, Horizon: time.Minute})
				m, err := k.NewMux()
				if err != nil {
					t.Fatal(err)
				}
				k.SetFaults(fake.Faults{Mux: m, Spurious: 0.05, ShortRead: 0.3, Split: 0.3, Truncate: 0.3, EarlyWake: 0.2})
				lfd, err := k.Listen("sink:9")
				if err != nil {
					t.Fatal(err)
				}
				peer, err := sendAndClose(k, "sink:9", payload)
				if err != nil {
					t.Fatal(err)
				}
				got, err := sinkLoop(k, m, lfd, tc.modes, tc.untilEAGAIN)
				if !tc.stalls {
					if err != nil || !bytes.Equal(got, payload) {
						t.Fatalf("the loop returned %d bytes, %v; want the %d bytes sent, and end of stream", len(got), err, len(payload))
					}
					m.Close()
					fake.CheckClean(t, k, fake.AllowFDs(lfd, peer), fake.AllowUnfired())
					return
				}
				var horizon *fake.HorizonError
				if !errors.As(err, &horizon) {
					t.Fatalf("the loop returned %d of %d bytes, %v; want a *fake.HorizonError: the loop waits for a report that never comes", len(got), len(payload), err)
				}
				if len(horizon.Stranded) != 1 || horizon.Stranded[0].Unread != len(payload)-len(got) {
					t.Fatalf("HorizonError.Stranded = %v; want one registration, with the %d bytes the loop did not read", horizon.Stranded, len(payload)-len(got))
				}
				s := horizon.Stranded[0]
				want := fmt.Sprintf("fd %d has %d unread bytes, is registered Readable|%v, and was last reported", s.FD, s.Unread, tc.modes)
				if msg := err.Error(); !strings.Contains(msg, want) {
					t.Errorf("the error says %q; want it to say %q", msg, want)
				}
				fix := "a loop must read until EAGAIN"
				if tc.modes == mux.OneShot {
					fix = "which disarmed it: nothing is reported for it until Modify re-arms it"
				}
				if msg := err.Error(); !strings.Contains(msg, fix) {
					t.Errorf("the error says %q; want it to say %q", msg, fix)
				}
				if end := k.End(); len(end.Stranded) != 1 || end.Stranded[0].FD != s.FD || !strings.Contains(end.String(), want) {
					t.Errorf("End() = %v; want it to list fd %d as stranded (%q)", end.String(), s.FD, want)
				}
			})
		})
	}
}

// TestEdgeTriggeredBreakAfterOne: the naive loop's break after the first
// event of a batch strands the other descriptors of the batch for good
// under edges, and the fake names them.
func TestEdgeTriggeredBreakAfterOne(t *testing.T) {
	k := fake.New(fake.Config{Horizon: time.Minute})
	m, _ := k.NewMux()
	var ends []int
	for range 3 {
		a, b, _ := k.Pair()
		m.Add(a, mux.Readable|mux.EdgeTriggered)
		k.Write(b, []byte("request"))
		ends = append(ends, a)
	}
	events := make([]mux.Event, 8)
	handled := 0
	first := -1
	var err error
	for err == nil {
		var n int
		n, err = m.Wait(events, time.Second)
		for _, ev := range events[:n] {
			k.Read(ev.FD, make([]byte, 64)) // the whole request: until EAGAIN would find no more
			handled++
			first = ev.FD
			break // the bug
		}
	}
	var horizon *fake.HorizonError
	if !errors.As(err, &horizon) || handled != 1 {
		t.Fatalf("the loop handled %d requests and ended with %v; want 1 handled and a *fake.HorizonError", handled, err)
	}
	if len(horizon.Stranded) != 2 {
		t.Fatalf("HorizonError.Stranded = %v; want the two descriptors of the batch the loop did not handle", horizon.Stranded)
	}
	for _, s := range horizon.Stranded {
		if s.FD == first || !slices.Contains(ends, s.FD) {
			t.Errorf("stranded fd %d; want one of %v other than fd %d, which the loop handled", s.FD, ends, first)
		}
		if s.Reported != mux.Readable || s.Unread != len("request") || !strings.Contains(s.String(), "handle every event of a batch") {
			t.Errorf("stranded %q; want a descriptor reported Readable with 7 unread bytes, and the advice to handle every event of a batch", s)
		}
	}
}

// TestOneShotNotRearmed: a one-shot registration that the loop does not
// re-arm goes silent, ready or not, and the errors of a loop that waits
// for it say so.
func TestOneShotNotRearmed(t *testing.T) {
	k := fake.New(fake.Config{Horizon: time.Minute})
	m, _ := k.NewMux()
	a, b, _ := k.Pair()
	m.Add(a, mux.Readable|mux.OneShot)
	k.Write(b, []byte("one"))
	events := make([]mux.Event, 4)
	if n, err := m.Wait(events, time.Second); n != 1 || err != nil {
		t.Fatalf("Wait = %d, %v; want a reported", n, err)
	}
	k.Read(a, make([]byte, 64))
	// Not re-armed: the next message is never reported.
	k.After(time.Second, func() { k.Write(b, []byte("two")) })
	for {
		n, err := m.Wait(events, time.Second)
		if n > 0 {
			t.Fatalf("Wait reported %v; want nothing from a one-shot registration not re-armed", events[:n])
		}
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("fd %d has 3 unread bytes, is registered Readable|OneShot, and was last reported (Readable) at 0s, which disarmed it", a)) {
				t.Errorf("Wait = %v; want it to name fd %d, its unread bytes and the report that disarmed it", err, a)
			}
			break
		}
	}
}

// TestAgainFaultUnderEdges: the Again fault returns EAGAIN from a read
// with data there; an edge-triggered registration is told again, or the
// fault would stall a correct loop, which reads until EAGAIN.
func TestAgainFaultUnderEdges(t *testing.T) {
	k := fake.New(fake.Config{})
	m, _ := k.NewMux()
	a, b, _ := k.Pair()
	k.SetFaults(fake.Faults{Again: 1, Nth: 1, FDs: []int{a}})
	m.Add(a, mux.Readable|mux.EdgeTriggered)
	k.Write(b, []byte("x"))
	events := make([]mux.Event, 4)
	if n, _ := m.Wait(events, 0); n != 1 {
		t.Fatalf("Wait(0) after data arrived = %v; want fd %d Readable", events[:n], a)
	}
	if _, err := k.Read(a, make([]byte, 8)); err != syscall.EAGAIN {
		t.Fatalf("Read with the Again fault = %v; want EAGAIN", err)
	}
	if n, _ := m.Wait(events, 0); n != 1 || events[0].FD != a {
		t.Fatalf("Wait(0) after a faulty EAGAIN = %v; want fd %d Readable again", events[:n], a)
	}
	if n, err := k.Read(a, make([]byte, 8)); n != 1 || err != nil {
		t.Fatalf("Read = %d, %v; want the byte", n, err)
	}
}

// TestEdgeTriggeredStallNamesStranded: a loop that blocks in Wait(-1)
// after it stopped reading before EAGAIN, edge-triggered, is woken by
// nothing; the stall detector fails the Wait and names the descriptor.
func TestEdgeTriggeredStallNamesStranded(t *testing.T) {
	k := fake.New(fake.Config{Stall: 50 * time.Millisecond})
	m, _ := k.NewMux()
	a, b, _ := k.Pair()
	m.Add(a, mux.Readable|mux.EdgeTriggered)
	k.Write(b, []byte("0123456789"))
	events := make([]mux.Event, 4)
	if n, err := m.Wait(events, -1); n != 1 || err != nil {
		t.Fatalf("Wait(-1) after data arrived = %v, %v; want fd %d Readable", events[:n], err, a)
	}
	k.Read(a, make([]byte, 4)) // 4 of 10 bytes, and back to Wait
	_, err := m.Wait(events, -1)
	var stall *fake.StallError
	if !errors.As(err, &stall) {
		t.Fatalf("Wait(-1) with 6 bytes left unread under edges = %v; want a *fake.StallError", err)
	}
	if len(stall.Stranded) != 1 || stall.Stranded[0].FD != a || stall.Stranded[0].Unread != 6 {
		t.Errorf("StallError.Stranded = %v; want fd %d with its 6 unread bytes", stall.Stranded, a)
	}
	if want := fmt.Sprintf("fd %d has 6 unread bytes", a); !strings.Contains(err.Error(), want) {
		t.Errorf("the error says %q; want it to say %q", err, want)
	}
}

// TestShortFaultsAreReportedAgain: Linux never stops a stream read short
// of the bytes queued (a short read drained the socket, and what arrives
// later is an edge), nor a write short of the room left, so an
// edge-triggered loop may take a short read for a drain and a short write
// for a full buffer. The ShortRead and ShortWrite faults, which have no
// counterpart in the kernel, must then report the rest again, or they
// strand a loop that is right on Linux.
func TestShortFaultsAreReportedAgain(t *testing.T) {
	k := fake.New(fake.Config{Seed: 1})
	m, err := k.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, b, err := k.Pair()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Add(a, mux.Readable|mux.EdgeTriggered); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Write(b, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	events := make([]mux.Event, 4)
	if n, err := m.Wait(events, 0); n != 1 || err != nil {
		t.Fatalf("Wait after 100 bytes arrived = %d, %v; want fd %d reported", n, err, a)
	}
	k.SetFaults(fake.Faults{ShortRead: 1})
	n, err := k.Read(a, make([]byte, 100))
	if err != nil || n >= 100 {
		t.Fatalf("Read under the ShortRead fault = %d, %v; want fewer than 100 bytes", n, err)
	}
	k.SetFaults(fake.Faults{})
	if got, err := m.Wait(events, 0); got != 1 || err != nil || events[0].FD != a || !events[0].Events.Has(mux.Readable) {
		t.Fatalf("Wait after a faulted short read of %d of 100 bytes = %d, %v (%v); want fd %d Readable: the rest must be reported again", n, got, err, events[:got], a)
	}

	// Likewise a short write: Linux writes short only into a full buffer,
	// and reports Writable when room is freed; the fault leaves room.
	if err := m.Modify(a, mux.Writable|mux.EdgeTriggered); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Wait(events, 0); n != 1 || err != nil {
		t.Fatalf("Wait after Modify to Writable = %d, %v; want fd %d reported", n, err, a)
	}
	k.SetFaults(fake.Faults{ShortWrite: 1})
	n, err = k.Write(a, make([]byte, 100))
	if err != nil || n >= 100 {
		t.Fatalf("Write under the ShortWrite fault = %d, %v; want fewer than 100 bytes", n, err)
	}
	k.SetFaults(fake.Faults{})
	if got, err := m.Wait(events, 0); got != 1 || err != nil || events[0].FD != a || !events[0].Events.Has(mux.Writable) {
		t.Fatalf("Wait after a faulted short write of %d of 100 bytes = %d, %v (%v); want fd %d Writable: there is room, and no later edge would say so", n, got, err, events[:got], a)
	}
}
