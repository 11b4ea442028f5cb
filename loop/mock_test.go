package loop_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/muxmock"
	"github.com/muxkit/muxkit/statemachine"
)

// The tests in this file use the generated mock of mux.Multiplexer where
// the order of the loop's calls is the point, with a scripted Sys that
// logs its calls in the same log as the mock's.

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// callLog is the order of calls across the mock and the scripted Sys.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (c *callLog) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *callLog) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// scriptSys is a Sys whose reads and writes follow a script.
type scriptSys struct {
	log     *callLog
	reads   []string // data of successive reads; "" is EAGAIN
	writeN  []int    // results of successive writes; -1 is EAGAIN
	sockErr error
	accepts []int // results of successive accepts; then EAGAIN
}

func (s *scriptSys) Read(fd int, p []byte) (int, error) {
	s.log.add("read")
	if len(s.reads) == 0 || s.reads[0] == "" {
		if len(s.reads) > 0 {
			s.reads = s.reads[1:]
		}
		return 0, syscall.EAGAIN
	}
	n := copy(p, s.reads[0])
	s.reads = s.reads[1:]
	return n, nil
}

func (s *scriptSys) Write(fd int, p []byte) (int, error) {
	s.log.add("write")
	if len(s.writeN) == 0 || s.writeN[0] < 0 {
		if len(s.writeN) > 0 {
			s.writeN = s.writeN[1:]
		}
		return 0, syscall.EAGAIN
	}
	n := min(s.writeN[0], len(p))
	s.writeN = s.writeN[1:]
	return n, nil
}

func (s *scriptSys) Close(fd int) error   { s.log.add("close"); return nil }
func (s *scriptSys) SockErr(fd int) error { s.log.add("sockerr"); return s.sockErr }
func (s *scriptSys) Accept(fd int) (int, error) {
	s.log.add("accept")
	if len(s.accepts) == 0 {
		return -1, syscall.EAGAIN
	}
	nfd := s.accepts[0]
	s.accepts = s.accepts[1:]
	return nfd, nil
}

func (s *scriptSys) Dial(addr string) (int, error)   { return -1, syscall.ENOSYS }
func (s *scriptSys) Listen(addr string) (int, error) { return -1, syscall.ENOSYS }
func (s *scriptSys) Now() time.Time                  { return epoch }

// events returns a Wait that reports evs.
func events(evs ...mux.Event) func([]mux.Event, time.Duration) (int, error) {
	return func(buf []mux.Event, _ time.Duration) (int, error) { return copy(buf, evs), nil }
}

func closed([]mux.Event, time.Duration) (int, error) {
	return 0, &mux.OpError{Backend: "mock", Op: "wait", FD: -1, Kind: mux.ErrClosed}
}

// TestMockRemoveBeforeClose: a client whose connect is refused finishes on
// its first event, and the loop removes its descriptor before closing it.
func TestMockRemoveBeforeClose(t *testing.T) {
	ctrl := gomock.NewController(t)
	m := muxmock.NewMockMultiplexer(ctrl)
	log := &callLog{}
	sys := &scriptSys{log: log, sockErr: syscall.ECONNREFUSED}
	const fd = 7
	gomock.InOrder(
		m.EXPECT().Add(fd, mux.Writable).Return(nil),
		m.EXPECT().Wait(gomock.Any(), time.Duration(-1)).DoAndReturn(events(mux.Event{FD: fd, Events: mux.Writable | mux.Error | mux.Hangup})),
		m.EXPECT().Remove(fd).DoAndReturn(func(int) error { log.add("remove"); return nil }),
		m.EXPECT().Wait(gomock.Any(), gomock.Any()).DoAndReturn(closed),
	)
	l, _ := loop.New(loop.Config{Mux: m, Sys: sys})
	c := statemachine.NewClient(statemachine.ClientConfig{Request: []byte("x")}, epoch)
	var got loop.Result
	if err := l.Submit(fd, &c, func(r loop.Result) { log.add("done"); got = r }); err != nil {
		t.Fatalf("Submit = %v; want nil", err)
	}
	if err := l.Run(); err != nil {
		t.Errorf("Run() = %v; want nil when Wait returns ErrClosed", err)
	}
	if want := []string{"sockerr", "remove", "close", "done"}; !slices.Equal(log.get(), want) {
		t.Errorf("calls = %v; want %v (Remove before Close, then done)", log.get(), want)
	}
	if !errors.Is(got.Err, syscall.ECONNREFUSED) || got.FD != fd {
		t.Errorf("Result = %+v; want fd %d failed with ECONNREFUSED", got, fd)
	}
}

// TestMockWritableOnlyWhilePending: a server connection reads a request,
// asks for Writable while its response is queued, and drops Writable once
// the response is written. Its read of 3 bytes, of the 4096 it asked for,
// drained the socket: the loop makes no second read.
func TestMockWritableOnlyWhilePending(t *testing.T) {
	ctrl := gomock.NewController(t)
	m := muxmock.NewMockMultiplexer(ctrl)
	log := &callLog{}
	sys := &scriptSys{log: log, reads: []string{"hi\n"}, writeN: []int{1, -1, 2}}
	const fd = 9
	gomock.InOrder(
		m.EXPECT().Add(fd, mux.Readable).Return(nil),
		m.EXPECT().Wait(gomock.Any(), gomock.Any()).DoAndReturn(events(mux.Event{FD: fd, Events: mux.Readable})),
		m.EXPECT().Modify(fd, mux.Readable|mux.Writable).Return(nil),
		m.EXPECT().Wait(gomock.Any(), gomock.Any()).DoAndReturn(events(mux.Event{FD: fd, Events: mux.Writable})),
		// 1 byte, then EAGAIN: the response is still pending; no change.
		m.EXPECT().Wait(gomock.Any(), gomock.Any()).DoAndReturn(events(mux.Event{FD: fd, Events: mux.Writable})),
		m.EXPECT().Modify(fd, mux.Readable).Return(nil),
		m.EXPECT().Wait(gomock.Any(), gomock.Any()).DoAndReturn(closed),
		m.EXPECT().Remove(fd).Return(mux.ErrClosed),
	)
	l, _ := loop.New(loop.Config{Mux: m, Sys: sys})
	s := statemachine.NewServerConn(statemachine.ServerConfig{}, epoch)
	var got loop.Result
	l.Submit(fd, &s, func(r loop.Result) { got = r })
	if err := l.Run(); err != nil {
		t.Errorf("Run() = %v; want nil when Wait returns ErrClosed", err)
	}
	if want := []string{"read", "write", "write", "write", "close"}; !slices.Equal(log.get(), want) {
		t.Errorf("Sys calls = %v; want %v", log.get(), want)
	}
	if !errors.Is(got.Err, mux.ErrClosed) {
		t.Errorf("Result.Err = %v; want ErrClosed for a task left when the Multiplexer closed", got.Err)
	}
}

// TestMockOnlyTheCallsNeeded: once a connection has written, a request
// costs one read and one write, and no Modify: the response goes out at
// once, so the Writable the machine asked for meanwhile is never
// registered. A read that fills the buffer is followed by another; a short
// one is not. Every Wait blocks, with the time left to the deadline: the
// loop never polls (Wait with timeout 0) first, which would cost a call
// whenever nothing is ready.
func TestMockOnlyTheCallsNeeded(t *testing.T) {
	ctrl := gomock.NewController(t)
	m := muxmock.NewMockMultiplexer(ctrl)
	log := &callLog{}
	long := strings.Repeat("a", statemachine.DefaultReadSize)
	sys := &scriptSys{log: log, reads: []string{"one\n", long, "b\n", "two\n"}, writeN: []int{4, len(long) + 2, 4}}
	const fd = 6
	const timeout = 5 * time.Second // from epoch, which the scripted clock never leaves
	mod := func(ev mux.Events) any {
		return m.EXPECT().Modify(fd, ev).DoAndReturn(func(int, mux.Events) error { log.add("modify " + ev.String()); return nil })
	}
	wait := func(d time.Duration, evs ...mux.Event) any {
		return m.EXPECT().Wait(gomock.Any(), d).DoAndReturn(func(buf []mux.Event, _ time.Duration) (int, error) {
			log.add("wait " + d.String())
			return copy(buf, evs), nil
		})
	}
	gomock.InOrder(
		m.EXPECT().Add(fd, mux.Readable).Return(nil),
		wait(timeout, mux.Event{FD: fd, Events: mux.Readable}),
		mod(mux.Readable|mux.Writable), // the first response waits for Writable
		wait(timeout, mux.Event{FD: fd, Events: mux.Writable}),
		mod(mux.Readable),
		wait(timeout, mux.Event{FD: fd, Events: mux.Readable}), // a long request
		wait(timeout, mux.Event{FD: fd, Events: mux.Readable}),
		m.EXPECT().Wait(gomock.Any(), timeout).DoAndReturn(func(buf []mux.Event, d time.Duration) (int, error) {
			log.add("wait " + d.String())
			return closed(buf, d)
		}),
		m.EXPECT().Remove(fd).Return(mux.ErrClosed),
	)
	l, _ := loop.New(loop.Config{Mux: m, Sys: sys})
	s := statemachine.NewServerConn(statemachine.ServerConfig{Timeout: timeout, IdleTimeout: -1}, epoch)
	l.Submit(fd, &s, nil)
	if err := l.Run(); err != nil {
		t.Errorf("Run() = %v; want nil when Wait returns ErrClosed", err)
	}
	want := []string{
		"wait 5s", "read", "modify Readable|Writable",
		"wait 5s", "write", "modify Readable",
		"wait 5s", "read", "read", "write", // 4096 bytes, then 2: a full read, then a short one
		"wait 5s", "read", "write",
		"wait 5s", // nothing ready: block until the deadline, with no poll first
		"close",
	}
	if got := log.get(); !slices.Equal(got, want) {
		t.Errorf("calls = %v; want %v", got, want)
	}
}

// TestMockWakeOnSubmit: a Submit from another goroutine while the loop is
// blocked in Wait calls Wake, and the loop adds the new descriptor.
func TestMockWakeOnSubmit(t *testing.T) {
	ctrl := gomock.NewController(t)
	m := muxmock.NewMockMultiplexer(ctrl)
	log := &callLog{}
	sys := &scriptSys{log: log}
	const fd = 5
	entered := make(chan struct{})
	woken := make(chan struct{})
	gomock.InOrder(
		m.EXPECT().Wait(gomock.Any(), time.Duration(-1)).DoAndReturn(func([]mux.Event, time.Duration) (int, error) {
			close(entered)
			select {
			case <-woken:
				return 0, nil
			case <-time.After(10 * time.Second):
				return 0, errors.New("test: Wake was not called within 10s of Submit")
			}
		}),
		m.EXPECT().Add(fd, mux.Readable).Return(nil),
		m.EXPECT().Wait(gomock.Any(), time.Duration(-1)).DoAndReturn(closed),
		m.EXPECT().Remove(fd).Return(mux.ErrClosed),
	)
	m.EXPECT().Wake().DoAndReturn(func() error { close(woken); return nil }).Times(1)

	l, _ := loop.New(loop.Config{Mux: m, Sys: sys})
	ran := make(chan error, 1)
	go func() { ran <- l.Run() }()
	<-entered
	s := statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: -1}, epoch) // no deadline: Wait blocks
	if err := l.Submit(fd, &s, nil); err != nil {
		t.Fatalf("Submit = %v; want nil", err)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run() = %v; want nil", err)
	}
}

// TestMockClosedStopsCleanly: Run returns nil, and makes no other call,
// when its first Wait says the Multiplexer is closed; later submissions
// are refused.
func TestMockClosedStopsCleanly(t *testing.T) {
	ctrl := gomock.NewController(t)
	m := muxmock.NewMockMultiplexer(ctrl)
	m.EXPECT().Wait(gomock.Any(), gomock.Any()).DoAndReturn(closed)
	l, _ := loop.New(loop.Config{Mux: m, Sys: &scriptSys{log: &callLog{}}})
	if err := l.Run(); err != nil {
		t.Errorf("Run() = %v; want nil when Wait returns ErrClosed", err)
	}
	s := statemachine.NewServerConn(statemachine.ServerConfig{}, epoch)
	if err := l.Submit(3, &s, nil); !errors.Is(err, loop.ErrStopped) {
		t.Errorf("Submit after Run returned = %v; want ErrStopped", err)
	}
	if err := l.Run(); !errors.Is(err, loop.ErrRunning) {
		t.Errorf("second Run() = %v; want ErrRunning", err)
	}
}

// TestMockWaitError: another error from Wait ends Run with that error,
// after failing the tasks left (removed, then closed).
func TestMockWaitError(t *testing.T) {
	ctrl := gomock.NewController(t)
	m := muxmock.NewMockMultiplexer(ctrl)
	log := &callLog{}
	busy := &mux.OpError{Backend: "mock", Op: "wait", FD: -1, Kind: mux.ErrBusy}
	gomock.InOrder(
		m.EXPECT().Add(4, mux.Readable).Return(nil),
		m.EXPECT().Wait(gomock.Any(), gomock.Any()).Return(0, busy),
		m.EXPECT().Remove(4).DoAndReturn(func(int) error { log.add("remove"); return nil }),
	)
	l, _ := loop.New(loop.Config{Mux: m, Sys: &scriptSys{log: log}})
	s := statemachine.NewServerConn(statemachine.ServerConfig{}, epoch)
	var got error
	l.Submit(4, &s, func(r loop.Result) { got = r.Err })
	if err := l.Run(); !errors.Is(err, mux.ErrBusy) {
		t.Errorf("Run() = %v; want the Wait error (ErrBusy)", err)
	}
	if !errors.Is(got, mux.ErrBusy) {
		t.Errorf("task Result.Err = %v; want the Wait error", got)
	}
	if want := []string{"remove", "close"}; !slices.Equal(log.get(), want) {
		t.Errorf("calls = %v; want %v", log.get(), want)
	}
}

// TestMockReuseInBatch: in one batch, a client on fd 5 finishes (its
// number is freed), the listener accepts a connection that gets number 5
// again, and a later event of the same batch speaks of fd 5. That event
// was about the old descriptor: it must not reach the new task (no read
// on fd 5 in this batch).
func TestMockReuseInBatch(t *testing.T) {
	ctrl := gomock.NewController(t)
	m := muxmock.NewMockMultiplexer(ctrl)
	log := &callLog{}
	sys := &scriptSys{log: log, sockErr: syscall.ECONNREFUSED, accepts: []int{5}}
	const lfd, fd = 3, 5
	gomock.InOrder(
		m.EXPECT().Add(lfd, mux.Readable).Return(nil),
		m.EXPECT().Add(fd, mux.Writable).Return(nil),
		m.EXPECT().Wait(gomock.Any(), gomock.Any()).DoAndReturn(events(
			mux.Event{FD: fd, Events: mux.Writable | mux.Error},
			mux.Event{FD: lfd, Events: mux.Readable},
			mux.Event{FD: fd, Events: mux.Readable},
		)),
		m.EXPECT().Remove(fd).DoAndReturn(func(int) error { log.add("remove"); return nil }),
		m.EXPECT().Add(fd, mux.Readable).DoAndReturn(func(int, mux.Events) error { log.add("add"); return nil }),
		m.EXPECT().Wait(gomock.Any(), gomock.Any()).DoAndReturn(closed),
		m.EXPECT().Remove(gomock.Any()).Return(mux.ErrClosed).Times(2), // the listener, the server connection
	)
	l, _ := loop.New(loop.Config{Mux: m, Sys: sys})
	l.Serve(lfd, func(time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{}, epoch)
		return &s
	}, nil)
	c := statemachine.NewClient(statemachine.ClientConfig{Request: []byte("x")}, epoch)
	l.Submit(fd, &c, nil)
	if err := l.Run(); err != nil {
		t.Errorf("Run() = %v; want nil", err)
	}
	want := []string{"sockerr", "remove", "close", "accept", "add", "accept", "close", "close"}
	if got := log.get(); !slices.Equal(got, want) {
		t.Errorf("calls = %v; want %v (no read: the third event was for the old fd %d)", got, want, fd)
	}
}
