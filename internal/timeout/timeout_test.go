package timeout

import (
	"math"
	"testing"
	"time"
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
		{Max, math.MaxInt32},
	} {
		if got := Millis(tc.in); got != tc.want {
			t.Errorf("Millis(%v) = %d, want %d (round up, never down; clamp)", tc.in, got, tc.want)
		}
	}
}

func TestSplit(t *testing.T) {
	sec, nsec := Split(2*time.Second + 5)
	if sec != 2 || nsec != 5 {
		t.Errorf("Split(2s+5ns) = %d, %d; want 2, 5", sec, nsec)
	}
}

func TestDeadline(t *testing.T) {
	if dl := Start(-5); !dl.Forever() || dl.Left() >= 0 {
		t.Errorf("Start(-5): Forever=%v Left=%v; want a deadline that never comes", dl.Forever(), dl.Left())
	}
	if dl := Start(0); dl.Forever() || dl.Left() != 0 {
		t.Errorf("Start(0).Left() = %v; want 0 (poll)", dl.Left())
	}
	dl := Start(time.Hour)
	if left := dl.Left(); left <= 59*time.Minute || left > time.Hour {
		t.Errorf("Start(1h).Left() = %v; want just under 1h", left)
	}
	huge := Start(math.MaxInt64)
	if left := huge.Left(); left <= 0 {
		t.Errorf("Start(MaxInt64).Left() = %v; want a positive clamped duration, not an overflow", left)
	}
	short := Start(time.Nanosecond)
	time.Sleep(time.Millisecond)
	if left := short.Left(); left != 0 {
		t.Errorf("after the deadline, Left() = %v; want 0", left)
	}
}
