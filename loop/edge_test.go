package loop_test

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

// The tests of Config.EdgeTriggered beyond those every test of the
// package makes in both modes (see TestMain): what only edges strand.

func TestEdgeTriggeredNeedsTheMode(t *testing.T) {
	k := fake.New(fake.Config{})
	m, _ := k.NewMux()
	defer m.Close()
	noModes := struct{ mux.Multiplexer }{m} // no Info: a Multiplexer that claims no mode
	_, err := loop.New(loop.Config{Mux: noModes, Sys: k, EdgeTriggered: true})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("loop.New(EdgeTriggered) over a Multiplexer that claims no mode = %v; want an error wrapping errors.ErrUnsupported", err)
	}
	if _, err := loop.New(loop.Config{Mux: m, Sys: k, EdgeTriggered: true}); err != nil {
		t.Errorf("loop.New(EdgeTriggered) over the fake = %v; want nil", err)
	}
}

// echoes serves clients that each send request and wait for its echo, all
// dialled at once, on an edge-triggered loop with lc, and checks that each
// gets its echo.
func echoes(t *testing.T, lc loop.Config, clients int, request []byte) {
	t.Helper()
	lc.EdgeTriggered = true
	k, l := newFake(t, fake.Config{Seed: 1, Horizon: time.Hour}, lc)
	lfd, err := k.Listen("echo:7")
	if err != nil {
		t.Fatal(err)
	}
	l.Serve(lfd, func(now time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{}, now)
		return &s
	}, nil)
	var failed []error
	left := clients
	for range clients {
		l.Dial("echo:7", func(now time.Time) loop.Task {
			c := statemachine.NewClient(statemachine.ClientConfig{Request: request, Framing: statemachine.Line, Timeout: 10 * time.Second}, now)
			return &c
		}, func(r loop.Result) {
			if c := r.Task.(*statemachine.Client); r.Err != nil || !bytes.Equal(c.Response(), request) {
				failed = append(failed, r.Err)
			}
			if left--; left == 0 {
				l.Stop()
			}
		})
	}
	if err := l.Run(); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d clients failed (the first: %v); want every one echoed: an edge-triggered loop that leaves a descriptor before EAGAIN must come back to it", len(failed), clients, failed[0])
	}
}

// TestEdgeTriggeredBacklog: more connections arrive at one instant than
// the loop accepts for one report of its listener; no edge will report
// the others.
func TestEdgeTriggeredBacklog(t *testing.T) {
	echoes(t, loop.Config{}, 120, []byte("ping\n"))
}

// TestEdgeTriggeredLongRequest: a request that takes more reads than the
// loop makes for one report (a small read buffer); no edge will report
// the rest of it.
func TestEdgeTriggeredLongRequest(t *testing.T) {
	echoes(t, loop.Config{ReadBuffer: 8}, 1, append(bytes.Repeat([]byte("x"), 1000), '\n'))
}

// flakyAccept is a Sys whose Accept fails once with err before the
// kernel's is called: a signal (EINTR) or a connection reset while it
// waited in the backlog (ECONNABORTED), neither of which empties the
// backlog.
type flakyAccept struct {
	*fake.Kernel
	err    error
	failed bool
}

func (s *flakyAccept) Accept(fd int) (int, error) {
	if !s.failed {
		s.failed = true
		return -1, s.err
	}
	return s.Kernel.Accept(fd)
}

// TestEdgeTriggeredAcceptRetried: an accept that fails with EINTR or
// ECONNABORTED has not emptied the backlog, and edge-triggered no new
// report will say what is left in it: the loop must try again, not wait
// for an edge that never comes.
func TestEdgeTriggeredAcceptRetried(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EINTR, syscall.ECONNABORTED} {
		t.Run(errno.Error(), func(t *testing.T) {
			k := fake.New(fake.Config{Seed: 1})
			m, err := k.NewMux()
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			l, err := loop.New(loop.Config{Mux: m, Sys: &flakyAccept{Kernel: k, err: errno}, EdgeTriggered: true})
			if err != nil {
				t.Fatal(err)
			}
			lfd, _ := k.Listen("srv:1")
			served := 0
			l.Serve(lfd, func(now time.Time) loop.Task {
				s := statemachine.NewServerConn(statemachine.ServerConfig{}, now)
				return &s
			}, func(r loop.Result) {
				if r.Task != nil && r.Err == nil {
					served++
					l.Stop()
				}
			})
			cfd, _ := k.Socket()
			k.Connect(cfd, "srv:1")
			k.After(time.Millisecond, func() { k.Write(cfd, []byte("x\n")); k.ShutdownWrite(cfd) })
			k.After(time.Minute, func() { go l.Shutdown(canceled()) }) // a watchdog, in virtual time
			if err := l.Run(); err != nil {
				t.Fatalf("Run() = %v; want nil", err)
			}
			if served != 1 {
				t.Errorf("after one accept failed with %v, %d connections served; want the pending one served", errno, served)
			}
		})
	}
}
