package statemachine_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// TestServerIdleTimeout: a ServerConn fails with ErrIdleDeadline once it
// has made no progress for between IdleTimeout and twice IdleTimeout —
// never sooner — whether its peer sends nothing or reads nothing; a read
// that returns bytes and a write that sends some are progress.
func TestServerIdleTimeout(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const idle = 10 * time.Second
	at := func(d time.Duration) time.Time { return start.Add(d) }
	deadline := func(s *statemachine.ServerConn) time.Duration {
		d, ok := s.Deadline()
		if !ok {
			return -1
		}
		return d.Sub(start)
	}

	// A peer that sends nothing: the first check finds no progress.
	s := statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: idle}, start)
	if d := deadline(&s); d != idle {
		t.Fatalf("new ServerConn: Deadline in %v; want the first idle check, in %v", d, idle)
	}
	if out := s.Step(statemachine.Tick(at(idle - 1))); out.Close {
		t.Fatalf("Tick before the idle check failed it: %v", out.Err)
	}
	out := s.Step(statemachine.Tick(at(idle)))
	if !out.Close || !errors.Is(out.Err, statemachine.ErrIdleDeadline) || !errors.Is(out.Err, statemachine.ErrDeadline) {
		t.Fatalf("silent peer, Tick at %v: Close %v, Err %v; want ErrIdleDeadline, which is ErrDeadline", idle, out.Close, out.Err)
	}

	// A peer that sends a line and stops reading: the echo cannot be
	// written. The line was progress; the check after the next is not.
	s = statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: idle}, start)
	s.Step(statemachine.Ready(mux.Readable))
	s.Step(statemachine.Read([]byte("hi\n"), nil)) // at 9s, say
	s.Step(statemachine.Read(nil, syscall.EAGAIN))
	s.Step(statemachine.Ready(mux.Writable))
	s.Step(statemachine.Wrote(0, syscall.EAGAIN))
	if out := s.Step(statemachine.Tick(at(idle))); out.Close {
		t.Fatalf("Tick at %v after a read failed the ServerConn (%v); want it kept: it made progress", idle, out.Err)
	}
	if d := deadline(&s); d != 2*idle {
		t.Fatalf("after a check that found progress: Deadline in %v; want the next check, in %v", d, 2*idle)
	}
	out = s.Step(statemachine.Tick(at(2 * idle)))
	if !out.Close || !errors.Is(out.Err, statemachine.ErrIdleDeadline) {
		t.Fatalf("peer that reads nothing, Tick at %v: Close %v, Err %v; want ErrIdleDeadline", 2*idle, out.Close, out.Err)
	}

	// A peer that reads slowly: a write that sends a byte is progress too.
	s = statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: idle}, start)
	s.Step(statemachine.Ready(mux.Readable))
	s.Step(statemachine.Read([]byte("hi\n"), nil))
	s.Step(statemachine.Read(nil, syscall.EAGAIN))
	s.Step(statemachine.Tick(at(idle))) // the read was progress
	s.Step(statemachine.Ready(mux.Writable))
	s.Step(statemachine.Wrote(1, syscall.EAGAIN))
	if out := s.Step(statemachine.Tick(at(2 * idle))); out.Close {
		t.Fatalf("Tick at %v after a write sent a byte failed the ServerConn (%v); want it kept: it made progress", 2*idle, out.Err)
	}
	out = s.Step(statemachine.Tick(at(3 * idle)))
	if !out.Close || !errors.Is(out.Err, statemachine.ErrIdleDeadline) {
		t.Fatalf("slow reader that stopped, Tick at %v: Close %v, Err %v; want ErrIdleDeadline", 3*idle, out.Close, out.Err)
	}

	// The default, and none.
	s = statemachine.NewServerConn(statemachine.ServerConfig{}, start)
	if d := deadline(&s); d != statemachine.DefaultIdleTimeout {
		t.Errorf("ServerConfig{}: Deadline in %v; want DefaultIdleTimeout, %v", d, statemachine.DefaultIdleTimeout)
	}
	s = statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: -1, Timeout: time.Hour}, start)
	if d := deadline(&s); d != time.Hour {
		t.Errorf("IdleTimeout -1, Timeout 1h: Deadline in %v; want only the Timeout's, 1h", d)
	}
	s = statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: -1}, start)
	if d, ok := s.Deadline(); ok {
		t.Errorf("IdleTimeout -1: Deadline %v; want none", d)
	}
}
