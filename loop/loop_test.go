package loop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

func newFake(t *testing.T, cfg fake.Config) (*fake.Kernel, *loop.Loop) {
	t.Helper()
	k := fake.New(cfg)
	m, err := k.NewMux()
	if err != nil {
		t.Fatalf("NewMux() = %v", err)
	}
	t.Cleanup(func() { m.Close() })
	l, err := loop.New(loop.Config{Mux: m, Sys: k})
	if err != nil {
		t.Fatalf("loop.New = %v", err)
	}
	return k, l
}

func TestNewNeedsMuxAndSys(t *testing.T) {
	if _, err := loop.New(loop.Config{Sys: fake.New(fake.Config{})}); err == nil {
		t.Error("New without Mux = nil error; want an error")
	}
	k := fake.New(fake.Config{})
	m, _ := k.NewMux()
	defer m.Close()
	if _, err := loop.New(loop.Config{Mux: m}); err == nil {
		t.Error("New without Sys = nil error; want an error")
	}
}

// TestDeadlines: the timer heap feeds Wait's timeout, so in virtual time
// each task fails exactly at its deadline, in deadline order, however
// they were submitted.
func TestDeadlines(t *testing.T) {
	k, l := newFake(t, fake.Config{Latency: time.Hour}) // connects never complete in time
	start := l.Now()
	var got []time.Duration
	timeouts := []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 10 * time.Millisecond}
	for _, d := range timeouts {
		l.Dial("nowhere", func(now time.Time) loop.Task {
			c := statemachine.NewClient(statemachine.ClientConfig{Request: []byte("x"), ConnectTimeout: d}, now)
			return &c
		}, func(r loop.Result) {
			if !errors.Is(r.Err, statemachine.ErrConnectDeadline) {
				t.Errorf("Result.Err = %v; want ErrConnectDeadline", r.Err)
			}
			got = append(got, l.Now().Sub(start))
			if len(got) == len(timeouts) {
				l.Stop()
			}
		})
	}
	if err := l.Run(); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	want := []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}
	if len(got) != len(want) {
		t.Fatalf("finished at %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("finished at virtual %v; want %v (each at its deadline, in order)", got, want)
			break
		}
	}
	if err := k.BusyLoop(); err != nil {
		t.Errorf("BusyLoop() = %v; want nil", err)
	}
}

// TestDialFailsAtOnce: a Dial whose connect fails at once reports the
// error with the task, which has failed too.
func TestDialFailsAtOnce(t *testing.T) {
	_, l := newFake(t, fake.Config{FDLimit: 1}) // the Multiplexer holds the only descriptor
	var got loop.Result
	l.Dial("x", func(now time.Time) loop.Task {
		c := statemachine.NewClient(statemachine.ClientConfig{Request: []byte("x")}, now)
		return &c
	}, func(r loop.Result) { got = r; l.Stop() })
	if err := l.Run(); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	c, _ := got.Task.(*statemachine.Client)
	if got.Err == nil || got.FD != -1 || c == nil || c.State() != statemachine.Failed {
		t.Errorf("Result = %+v; want FD -1, an error (EMFILE) and the Client Failed", got)
	}
}

// TestGracefulStop: Stop from another goroutine closes the listener and
// lets the running exchange finish; later submissions are refused.
func TestGracefulStopAndHardStop(t *testing.T) {
	k, l := newFake(t, fake.Config{})
	a, b, _ := k.Pair()
	s := statemachine.NewServerConn(statemachine.ServerConfig{}, l.Now()) // no deadline
	var res loop.Result
	got := make(chan struct{})
	l.Submit(b, &s, func(r loop.Result) { res = r; close(got) })
	ran := make(chan error, 1)
	go func() { ran <- l.Run() }()

	// The peer never finishes, so a graceful stop cannot complete: the
	// context ends it hard.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v; want the context's error after a hard stop", err)
	}
	<-got
	if !errors.Is(res.Err, loop.ErrStopped) {
		t.Errorf("Result.Err = %v; want ErrStopped", res.Err)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run() = %v; want nil", err)
	}
	if err := l.Submit(a, &s, nil); !errors.Is(err, loop.ErrStopped) {
		t.Errorf("Submit after Shutdown = %v; want ErrStopped", err)
	}
	if _, err := k.Write(b, []byte("x")); err == nil {
		t.Errorf("Write to fd %d after the hard stop succeeded; want EBADF (the loop closes its descriptors)", b)
	}
}

// TestSubmitFromGoroutines: tasks submitted from several goroutines while
// the loop waits (blocked in real time on the fake) all run.
func TestSubmitFromGoroutines(t *testing.T) {
	k, l := newFake(t, fake.Config{})
	const n = 20
	type pair struct{ a, b int }
	pairs := make([]pair, n)
	for i := range pairs {
		a, b, _ := k.Pair()
		pairs[i] = pair{a, b}
		k.Write(a, []byte("hi\n"))
		k.Close(a) // the server reads the line, echoes into a closed peer: EPIPE or success
	}
	done := make(chan loop.Result, n)
	ran := make(chan error, 1)
	go func() { ran <- l.Run() }()
	for i := range pairs {
		go func() {
			s := statemachine.NewServerConn(statemachine.ServerConfig{}, l.Now())
			if err := l.Submit(pairs[i].b, &s, func(r loop.Result) { done <- r }); err != nil {
				t.Errorf("Submit = %v; want nil", err)
				done <- loop.Result{}
			}
		}()
	}
	for range n {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("a submitted task did not finish within 30s; want every Submit to wake the loop")
		}
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown = %v; want nil", err)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run() = %v; want nil", err)
	}
}
