package loop_test

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

// runOnce runs l until every task submitted so far has finished.
func runOnce(t *testing.T, l *loop.Loop) {
	t.Helper()
	l.Stop()
	if err := l.Run(); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
}

// heapInUse returns the bytes of live heap objects after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSubmitBadDescriptor: a descriptor that is negative, or not open
// however large its number, is refused with mux.ErrBadFD, and costs the
// loop nothing: it is checked before the loop makes room for it.
func TestSubmitBadDescriptor(t *testing.T) {
	for _, fd := range []int{-1, 100_000, 1 << 30, 1<<31 - 1, math.MaxInt} {
		_, l := newFake(t, fake.Config{}, loop.Config{})
		var got loop.Result
		before := heapInUse()
		s := statemachine.NewServerConn(statemachine.ServerConfig{}, l.Now())
		if err := l.Submit(fd, &s, func(r loop.Result) { got = r }); err != nil {
			t.Fatalf("Submit(%d) = %v; want nil (the failure is the task's Result)", fd, err)
		}
		runOnce(t, l)
		if !errors.Is(got.Err, mux.ErrBadFD) || got.FD != fd {
			t.Errorf("Submit(%d): Result %+v; want FD %d and an error that is mux.ErrBadFD", fd, got, fd)
		}
		if grew := int64(heapInUse()) - int64(before); grew > 1<<20 {
			t.Fatalf("the loop holds %d more bytes after refusing descriptor %d; want no room made for a descriptor that is not open", grew, fd)
		}
		runtime.KeepAlive(l)
	}
}

// TestServeBadDescriptor: the same for a listener.
func TestServeBadDescriptor(t *testing.T) {
	_, l := newFake(t, fake.Config{}, loop.Config{})
	var got loop.Result
	before := heapInUse()
	err := l.Serve(1<<30, func(time.Time) loop.Task { return nil }, func(r loop.Result) { got = r })
	if err != nil {
		t.Fatalf("Serve(1<<30) = %v; want nil (the failure is the listener's Result)", err)
	}
	runOnce(t, l)
	if grew := int64(heapInUse()) - int64(before); grew > 1<<20 {
		t.Errorf("the loop holds %d more bytes after refusing listener 1<<30; want no room made for it", grew)
	}
	if !errors.Is(got.Err, mux.ErrBadFD) || got.FD != 1<<30 {
		t.Errorf("Serve(1<<30): Result %+v; want FD 1<<30 and an error that is mux.ErrBadFD", got)
	}
	runtime.KeepAlive(l)
}

// TestSubmitRefusals: a task on a descriptor another task has is refused
// without touching the descriptor; a task that waits for nothing is
// refused and its descriptor closed.
func TestSubmitRefusals(t *testing.T) {
	k, l := newFake(t, fake.Config{}, loop.Config{})
	a, b, _ := k.Pair()
	first := statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: -1}, l.Now())
	second := statemachine.NewServerConn(statemachine.ServerConfig{}, l.Now())
	var inUse, firstDone loop.Result
	l.Submit(b, &first, func(r loop.Result) { firstDone = r })
	l.Submit(b, &second, func(r loop.Result) {
		inUse = r
		if _, err := k.Write(b, nil); err != nil {
			t.Errorf("Write(%d) after the refusal = %v; want the first task's descriptor still open", b, err)
		}
		k.Close(a) // the first task sees end of stream and finishes
	})
	c, d, _ := k.Pair()
	var nothing loop.Result
	l.Submit(d, idle{}, func(r loop.Result) { nothing = r })
	runOnce(t, l)
	if !errors.Is(inUse.Err, loop.ErrFDInUse) {
		t.Errorf("second task on fd %d: Result.Err %v; want ErrFDInUse", b, inUse.Err)
	}
	if firstDone.Err != nil {
		t.Errorf("first task on fd %d: Result.Err %v; want success once its peer closed", b, firstDone.Err)
	}
	if !errors.Is(nothing.Err, loop.ErrNoInterest) {
		t.Errorf("task with no interest: Result.Err %v; want ErrNoInterest", nothing.Err)
	}
	if _, err := k.Write(d, []byte("x")); err == nil {
		t.Errorf("Write(%d) after ErrNoInterest succeeded; want the refused task's descriptor closed", d)
	}
	k.Close(c)
}

// idle is a Task that waits for nothing.
type idle struct{}

func (idle) Step(statemachine.Input) statemachine.Output { return statemachine.Output{} }
func (idle) Interest() mux.Events                        { return 0 }
func (idle) Deadline() (time.Time, bool)                 { return time.Time{}, false }

// asks is a Task that asks for one Output on its first readiness, and
// finishes on the next input.
type asks struct {
	out   statemachine.Output
	asked bool
}

func (a *asks) Step(in statemachine.Input) statemachine.Output {
	if a.asked {
		return statemachine.Output{Close: true}
	}
	a.asked = true
	return a.out
}
func (*asks) Interest() mux.Events        { return mux.Writable }
func (*asks) Deadline() (time.Time, bool) { return time.Time{}, false }

// TestTaskAsksTheImpossible: a Task that asks for a read of fewer than one
// byte, or for an operation the loop does not know, fails with an error
// that says so; the loop does not panic and goes on.
func TestTaskAsksTheImpossible(t *testing.T) {
	for _, tc := range []struct {
		out  statemachine.Output
		want string
	}{
		{statemachine.Output{Op: statemachine.OpRead, Max: 0}, "read of 0 bytes"},
		{statemachine.Output{Op: statemachine.OpRead, Max: math.MinInt}, fmt.Sprintf("read of %d bytes", math.MinInt)},
		{statemachine.Output{Op: 99}, "unknown operation"},
	} {
		k, l := newFake(t, fake.Config{}, loop.Config{})
		a, b, _ := k.Pair()
		var got loop.Result
		l.Submit(b, &asks{out: tc.out}, func(r loop.Result) { got = r })
		runOnce(t, l)
		if got.Err == nil || !strings.Contains(got.Err.Error(), tc.want) {
			t.Errorf("a task that asks for %+v: Result.Err %v; want an error that mentions %q", tc.out, got.Err, tc.want)
		}
		k.Close(a)
	}
}
