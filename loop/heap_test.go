package loop

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestTimers checks the deadline heap against a map of the deadlines it
// should hold: after any sequence of set and remove, next is no later than
// the earliest, popDue takes exactly those due, earliest first, and then
// next is after now, so that a loop never waits for a time already past.
func TestTimers(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var h timers
		model := map[int32]time.Time{}
		base := time.Unix(0, 0)
		for range rapid.IntRange(0, 100).Draw(t, "ops") {
			key := rapid.Int32Range(0, 20).Draw(t, "key")
			if rapid.IntRange(0, 3).Draw(t, "remove") == 0 {
				h.remove(key)
				delete(model, key)
			} else {
				at := base.Add(time.Duration(rapid.IntRange(0, 50).Draw(t, "at")))
				h.set(key, at)
				model[key] = at
			}
			earliest, ok := time.Time{}, false
			for _, at := range model {
				if !ok || at.Before(earliest) {
					earliest, ok = at, true
				}
			}
			if got, gotOK := h.next(); gotOK != ok || got.After(earliest) {
				t.Fatalf("next() = %v, %v; want %v or earlier, %v (deadlines %v)", got, gotOK, earliest, ok, model)
			}
		}
		now := base.Add(time.Duration(rapid.IntRange(0, 50).Draw(t, "now")))
		last := time.Time{}
		for {
			key, ok := h.popDue(now)
			if !ok {
				break
			}
			at, held := model[key]
			if !held || at.After(now) || at.Before(last) {
				t.Fatalf("popDue(%v) = key %d (deadline %v, held %v) after one at %v; want due deadlines, earliest first", now, key, at, held, last)
			}
			last = at
			delete(model, key)
		}
		for key, at := range model {
			if !at.After(now) {
				t.Fatalf("key %d due at %v was not popped at %v", key, at, now)
			}
		}
		if at, ok := h.next(); ok != (len(model) > 0) || ok && !at.After(now) {
			t.Fatalf("after popDue(%v), next() = %v, %v; want a time after it while deadlines remain (deadlines %v)", now, at, ok, model)
		}
		if len(h.heap) != len(model) {
			t.Fatalf("heap holds %d timers; want %d", len(h.heap), len(model))
		}
	})
}

// BenchmarkTimersMoveLater is what a busy server whose tasks slide their
// idle deadlines does to the heap: each request moves one connection's
// deadline past every other's, and each turn asks for any due.
func BenchmarkTimersMoveLater(b *testing.B) {
	for _, n := range []int{50, 500, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var h timers
			base := time.Now()
			for k := range n {
				h.set(int32(k), base.Add(time.Duration(k)))
			}
			for i := 0; b.Loop(); i++ {
				h.set(int32(i%n), base.Add(time.Duration(n+i)))
				if _, ok := h.popDue(base); ok {
					b.Fatal("popped a deadline not due")
				}
			}
			if at, _ := h.next(); at.Before(base) {
				b.Fatal("lost the deadlines")
			}
		})
	}
}
