package timeout_test

import (
	"math"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux/timeout"
)

func TestMillisRoundsUp(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want int
	}{
		{-1, -1},
		{-time.Hour, -1},
		{0, 0},
		{1, 1},
		{100 * time.Microsecond, 1},
		{time.Millisecond, 1},
		{time.Millisecond + 1, 2},
		{1500 * time.Microsecond, 2},
		{timeout.Max, math.MaxInt32},
	} {
		if got := timeout.Millis(tc.in); got != tc.want {
			t.Errorf("Millis(%v) = %d, want %d (round up, never down; clamp)", tc.in, got, tc.want)
		}
	}
}

func TestDeadline(t *testing.T) {
	if left := timeout.Start(-5).Left(); left != -1 {
		t.Errorf("Start(-5).Left() = %v; want -1, a deadline that never comes", left)
	}
	if left := timeout.Start(0).Left(); left != 0 {
		t.Errorf("Start(0).Left() = %v; want 0 (poll)", left)
	}
	dl := timeout.Start(time.Hour)
	if left := dl.Left(); left <= 59*time.Minute || left > time.Hour {
		t.Errorf("Start(1h).Left() = %v; want just under 1h", left)
	}
	huge := timeout.Start(math.MaxInt64)
	if left := huge.Left(); left <= 0 {
		t.Errorf("Start(MaxInt64).Left() = %v; want a positive clamped duration, not an overflow", left)
	}
	short := timeout.Start(time.Nanosecond)
	time.Sleep(time.Millisecond)
	if left := short.Left(); left != 0 {
		t.Errorf("after the deadline, Left() = %v; want 0", left)
	}
}

// TestDeadlineFixed: the deadline is fixed at Start, so a Wait that goes
// round again (after EINTR) waits only for what is left, and the time
// left never grows back.
func TestDeadlineFixed(t *testing.T) {
	const d = 30 * time.Millisecond
	start := time.Now()
	dl := timeout.Start(d)
	prev := dl.Left()
	for left, calls := prev, 0; left > 0; left, calls = dl.Left(), calls+1 {
		if left > prev {
			t.Fatalf("Left() = %v after %v; want it never to grow", left, prev)
		}
		if calls > 1000 {
			t.Fatalf("Left() = %v after %v; want 0 once %v have passed since Start", left, time.Since(start), d)
		}
		prev = left
		time.Sleep(min(left, 5*time.Millisecond)) // a kernel call cut short, as by EINTR
	}
	if took := time.Since(start); took < d {
		t.Errorf("Left() reached 0 after %v; want no earlier than %v", took, d)
	}
}
