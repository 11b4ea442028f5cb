package fake_test

import (
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
			time.Sleep(time.Minute) // the bubble's clock, not the kernel's
			k.Write(b, []byte("x"))
		}()
		if ev := <-got; ev != mux.Readable {
			t.Fatalf("Wait(-1) after a write from another goroutine returned %v; want Readable", ev)
		}
	})
}
