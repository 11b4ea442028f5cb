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

// newFake returns a fake kernel and a loop over it, set up by lc (whose
// Mux and Sys it fills in).
func newFake(t *testing.T, cfg fake.Config, lc loop.Config) (*fake.Kernel, *loop.Loop) {
	t.Helper()
	k := fake.New(cfg)
	m, err := k.NewMux()
	if err != nil {
		t.Fatalf("NewMux() = %v", err)
	}
	t.Cleanup(func() { m.Close() })
	lc.Mux, lc.Sys = m, k
	l, err := loop.New(lc)
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
	k, l := newFake(t, fake.Config{Latency: time.Hour}, loop.Config{}) // connects never complete in time
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
	_, l := newFake(t, fake.Config{FDLimit: 1}, loop.Config{}) // the Multiplexer holds the only descriptor
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
	k, l := newFake(t, fake.Config{}, loop.Config{})
	a, b, _ := k.Pair()
	s := statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: -1}, l.Now()) // no deadline
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
	k, l := newFake(t, fake.Config{}, loop.Config{})
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

// TestIdleConnectionsFreeTheirSlots serves, under MaxTasks 2 and in
// virtual time, a peer that connects and says nothing, a peer that sends a
// line every 4s for a minute, and a third that connects at 1s and must
// wait for a slot. The silent one is dropped for idleness between 10s and
// 20s after it was accepted (IdleTimeout 10s), which lets the third in;
// the busy one is never idle for 10s and is served to the end.
func TestIdleConnectionsFreeTheirSlots(t *testing.T) {
	const idle = 10 * time.Second
	k, l := newFake(t, fake.Config{Seed: 1}, loop.Config{MaxTasks: 2})
	start := l.Now()
	lfd, _ := k.Listen("srv:1")
	type end struct {
		at  time.Duration // virtual time since the start
		err error
	}
	var ends []end // in the order the server connections ended
	l.Serve(lfd, func(now time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: idle}, now)
		return &s
	}, func(r loop.Result) {
		if r.Task == nil {
			return // the listener, at Stop
		}
		if ends = append(ends, end{l.Now().Sub(start), r.Err}); len(ends) == 3 {
			l.Stop()
		}
	})
	dial := func() int {
		fd, _ := k.Socket()
		k.Connect(fd, "srv:1")
		return fd
	}
	silent, busy := dial(), dial()
	var late int
	k.After(time.Second, func() {
		late = dial()
		k.After(time.Millisecond, func() { k.Write(late, []byte("late\n")); k.ShutdownWrite(late) })
	})
	buf := make([]byte, 64)
	echoed := 0
	for i := 1; i <= 15; i++ {
		k.After(time.Duration(i)*4*time.Second, func() {
			n, _ := k.Read(busy, buf)
			echoed += max(n, 0)
			if i == 15 {
				k.Close(busy) // at 60s: the busy peer leaves; its connection ends at EOF
				return
			}
			k.Write(busy, []byte("ping\n"))
		})
	}
	k.After(5*time.Minute, func() { go l.Shutdown(canceled()) }) // a watchdog, in virtual time
	if err := l.Run(); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if len(ends) != 3 {
		t.Fatalf("%d server connections ended: %+v; want 3", len(ends), ends)
	}
	first := ends[0]
	if !errors.Is(first.err, statemachine.ErrIdleDeadline) || first.at < idle || first.at > 2*idle+time.Second {
		t.Errorf("first connection to end: at %v with %v; want the silent one, dropped with ErrIdleDeadline between %v and %v", first.at, first.err, idle, 2*idle)
	}
	second := ends[1]
	if second.err != nil || second.at < first.at {
		t.Errorf("second connection to end: at %v with %v; want the late one, served once the silent one's slot was free (at %v)", second.at, second.err, first.at)
	}
	last := ends[2]
	if last.err != nil || last.at < 60*time.Second {
		t.Errorf("last connection to end: at %v with %v; want the busy one, served without error until its peer left at 60s", last.at, last.err)
	}
	if want := 14 * len("ping\n"); echoed != want {
		t.Errorf("the busy peer read %d bytes of echoes; want %d", echoed, want)
	}
	if n, _ := k.Read(late, buf); string(buf[:max(n, 0)]) != "late\n" {
		t.Errorf("the late peer read %q; want its line echoed", buf[:max(n, 0)])
	}
	k.Close(silent)
	k.Close(late)
}

// canceled returns a context that is already done.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
