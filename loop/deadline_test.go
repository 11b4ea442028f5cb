package loop_test

import (
	"errors"
	"testing"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

// TestDeadlineEndsTheLastTask: tasks that end on their deadline, with no
// event to wake the loop, make room for a queued task at once and let a
// stopping loop return — the loop looks again before it blocks, instead
// of waiting with nothing left to wake it. Idle server connections whose
// peers never write, one running at a time (MaxTasks 1), then Stop.
func TestDeadlineEndsTheLastTask(t *testing.T) {
	k := fake.New(fake.Config{Seed: 1, Stall: time.Second}) // a Wait that nothing can end fails fast
	m, err := k.NewMux()
	if err != nil {
		t.Fatalf("NewMux = %v", err)
	}
	l, err := loop.New(loop.Config{Mux: m, Sys: k, MaxTasks: 1})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	const conns, idle = 3, time.Second
	start := k.Now()
	var ended []time.Duration
	for range conns {
		_, b, err := k.Pair() // the peer never writes: the connection ends on its idle deadline
		if err != nil {
			t.Fatalf("Pair = %v", err)
		}
		s := statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: idle}, start)
		if err := l.Submit(b, &s, func(r loop.Result) {
			if !errors.Is(r.Err, statemachine.ErrIdleDeadline) {
				t.Errorf("task on %d ended with %v; want ErrIdleDeadline", r.FD, r.Err)
			}
			ended = append(ended, k.Now().Sub(start))
		}); err != nil {
			t.Fatalf("Submit = %v", err)
		}
	}
	l.Stop()
	if err := l.Run(); err != nil {
		t.Fatalf("Run = %v; want nil once every task has ended", err)
	}
	if len(ended) != conns {
		t.Fatalf("%d tasks ended; want %d", len(ended), conns)
	}
	// Every deadline was start+idle (a machine counts from the time it is
	// given); the queued ones, admitted as the one before ended, were
	// already due, and ended at that same instant.
	for i, d := range ended {
		if d != idle {
			t.Errorf("task %d ended after %v; want %v, at its deadline", i, d, idle)
		}
	}
}
