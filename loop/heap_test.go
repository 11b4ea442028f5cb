package loop

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestTimers checks the deadline heap against a map of the deadlines it
// should hold: after any sequence of set and remove, next is the earliest,
// and popDue takes exactly those due, earliest first.
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
			if got, gotOK := h.next(); gotOK != ok || !got.Equal(earliest) {
				t.Fatalf("next() = %v, %v; want %v, %v (deadlines %v)", got, gotOK, earliest, ok, model)
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
		if len(h.heap) != len(model) {
			t.Fatalf("heap holds %d timers; want %d", len(h.heap), len(model))
		}
	})
}
