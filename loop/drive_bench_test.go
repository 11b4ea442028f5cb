package loop

import (
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// lineSys is a Sys whose descriptors always hold one more line to read and
// take every write whole: the system calls of a round trip, without the
// kernel.
type lineSys struct {
	line  []byte
	ready bool      // the next read returns the line; the one after, EAGAIN
	now   time.Time // a reading of the real clock, monotonic part included, as Sys.Now gives: deadlines and timeouts take their usual path
}

func (s *lineSys) Read(fd int, p []byte) (int, error) {
	if !s.ready {
		return 0, syscall.EAGAIN
	}
	s.ready = false
	return copy(p, s.line), nil
}
func (s *lineSys) Write(fd int, p []byte) (int, error) { return len(p), nil }
func (s *lineSys) Close(fd int) error                  { return nil }
func (s *lineSys) SockErr(fd int) error                { return nil }
func (s *lineSys) Accept(fd int) (int, error)          { return -1, syscall.EAGAIN }
func (s *lineSys) Dial(addr string) (int, error)       { return -1, syscall.ENOSYS }
func (s *lineSys) Listen(addr string) (int, error)     { return -1, syscall.ENOSYS }
func (s *lineSys) Now() time.Time                      { return s.now }

// nopMux is a Multiplexer that accepts every registration and reports
// nothing.
type nopMux struct{}

func (nopMux) Add(int, mux.Events) error                    { return nil }
func (nopMux) Modify(int, mux.Events) error                 { return nil }
func (nopMux) Remove(int) error                             { return nil }
func (nopMux) Wait([]mux.Event, time.Duration) (int, error) { return 0, nil }
func (nopMux) Wake() error                                  { return nil }
func (nopMux) Close() error                                 { return nil }

// BenchmarkRoundTripGo measures the Go the loop and a ServerConn spend on
// one echo round trip of a 64-byte line — dispatch of a Readable event,
// the machine's steps, the framing, the timers — with the system calls
// replaced by functions that return at once: what the loop adds to the
// kernel's work for each request.
func BenchmarkRoundTripGo(b *testing.B) {
	line := make([]byte, 64)
	for i := range line {
		line[i] = 'a' + byte(i%26)
	}
	line[len(line)-1] = '\n'
	sys := &lineSys{line: line, now: time.Now()}
	l, err := New(Config{Mux: nopMux{}, Sys: sys})
	if err != nil {
		b.Fatal(err)
	}
	const fd = 5
	s := statemachine.NewServerConn(statemachine.ServerConfig{}, sys.now)
	l.register(fd, &s, nil)
	// The first response waits for Writable; the rest go out at once.
	l.events[0] = mux.Event{FD: fd, Events: mux.Readable | mux.Writable}
	sys.ready = true
	l.dispatch(1)
	l.events[0] = mux.Event{FD: fd, Events: mux.Readable}
	b.ReportAllocs()
	for b.Loop() {
		sys.ready = true
		l.dispatch(1)
		l.tick()
	}
	if s.State() != statemachine.Open || s.Queued() != 0 {
		b.Fatalf("ServerConn %v with %d bytes queued; want Open, every echo written", s.State(), s.Queued())
	}
}
