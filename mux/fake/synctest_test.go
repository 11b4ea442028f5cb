package fake_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

func TestSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := fake.New(fake.Config{})
		m := mustMux(t, k)
		a, b := mustPair(t, k)
		mustAdd(t, m, a, mux.Readable)
		got := make(chan mux.Events, 1)
		go func() {
			evs := make([]mux.Event, 4)
			if n, err := m.Wait(evs, -1); err == nil && n == 1 {
				got <- evs[0].Events
			}
			close(got)
		}()
		synctest.Wait() // the Wait(-1) is durably blocked
		select {
		case ev := <-got:
			t.Fatalf("Wait(-1) with nothing ready returned %v; want it blocked", ev)
		default:
		}
		go func() {
			time.Sleep(time.Second) // the bubble's clock, not the kernel's
			k.Write(b, []byte("x"))
		}()
		if ev := <-got; ev != mux.Readable {
			t.Fatalf("Wait(-1) after a write from another goroutine returned %v; want Readable", ev)
		}
	})
}

// TestStallInBubble: a forgotten Wait(-1) — nothing ready, nothing
// scheduled, nobody else to act — fails with a *StallError, at once in
// real time inside a bubble.
func TestStallInBubble(t *testing.T) {
	start := time.Now()
	synctest.Test(t, func(t *testing.T) {
		k := fake.New(fake.Config{})
		m := mustMux(t, k)
		a, _ := mustPair(t, k)
		mustAdd(t, m, a, mux.Readable)
		_, err := m.Wait(make([]mux.Event, 4), -1)
		var se *fake.StallError
		if !errors.As(err, &se) || len(se.Watching) != 1 || se.Watching[0] != (mux.Event{FD: a, Events: mux.Readable}) {
			t.Fatalf("forgotten Wait(-1) = %v; want a *StallError watching fd %d for Readable", err, a)
		}
	})
	if real := time.Since(start); real > 5*time.Second {
		t.Errorf("the stall took %v of real time inside a bubble; want it at once", real)
	}
}

// TestStallRealTime: outside a bubble the stall is measured in real time,
// and any call to the kernel from another goroutine starts it afresh.
func TestStallRealTime(t *testing.T) {
	const stall = 100 * time.Millisecond
	k := fake.New(fake.Config{Stall: stall})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	stop := make(chan struct{})
	go func() { // a goroutine that keeps calling for 3 stalls' time, then goes quiet
		for i := 0; i < 30; i++ {
			select {
			case <-stop:
				return
			case <-time.After(stall / 10):
			}
			k.Read(b, make([]byte, 1)) // EAGAIN: a call, but no change
		}
	}()
	defer close(stop)
	start := time.Now()
	_, err := m.Wait(make([]mux.Event, 4), -1)
	var se *fake.StallError
	if !errors.As(err, &se) {
		t.Fatalf("Wait(-1) with nothing to wait for = %v; want a *StallError", err)
	}
	if real := time.Since(start); real < 3*stall {
		t.Errorf("stalled after %v; want no stall while another goroutine called the kernel (%v)", real, 3*stall)
	}
}

// TestHorizon: a Wait that would move the clock past the horizon fails
// and names it; one with a huge timeout counts as having none.
func TestHorizon(t *testing.T) {
	k := fake.New(fake.Config{Horizon: time.Minute, Stall: 50 * time.Millisecond})
	m := mustMux(t, k)
	evs := make([]mux.Event, 4)
	if _, err := m.Wait(evs, 40*time.Second); err != nil {
		t.Fatalf("Wait(40s) before the 1m horizon = %v; want nil", err)
	}
	_, err := m.Wait(evs, 40*time.Second)
	var he *fake.HorizonError
	if !errors.As(err, &he) || he.Horizon != time.Minute || he.Next != 80*time.Second {
		t.Fatalf("Wait(40s) at 40s with a 1m horizon = %v; want a *HorizonError naming the horizon and 1m20s", err)
	}
	if got := k.Elapsed(); got != time.Minute {
		t.Errorf("clock at %v after the horizon error; want it left at the horizon, 1m", got)
	}
	k.After(time.Hour, func() {})
	if _, err := m.Wait(evs, -1); !errors.As(err, &he) || he.Next != time.Minute+time.Hour {
		t.Errorf("Wait(-1) with the next instant past the horizon = %v; want a *HorizonError", err)
	}

	// Huge timeouts clamp to forever, as on the OS backends: the clock
	// does not jump to the end of time, and later Waits still jump.
	k = fake.New(fake.Config{Horizon: -1, Stall: 50 * time.Millisecond})
	m = mustMux(t, k)
	if _, err := m.Wait(evs, time.Duration(1<<63-1)); !errors.As(err, new(*fake.StallError)) {
		t.Fatalf("Wait(MaxInt64) on an idle kernel = %v; want it to block like Wait(-1), then stall", err)
	}
	if got := k.Elapsed(); got != 0 {
		t.Fatalf("Wait(MaxInt64) moved the clock by %v; want 0", got)
	}
	start := time.Now()
	if _, err := m.Wait(evs, time.Second); err != nil || k.Elapsed() != time.Second {
		t.Fatalf("Wait(1s) after it = %v at %v; want nil at 1s", err, k.Elapsed())
	}
	if real := time.Since(start); real > time.Second {
		t.Errorf("Wait(1s) after a huge one took %v of real time; want it to jump", real)
	}
}
