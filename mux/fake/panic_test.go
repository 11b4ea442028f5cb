package fake_test

import (
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// TestPanicInPeer: a handler or a scheduled function that panics (a
// failed assertion in a peer; rapid ending a test case from a draw)
// unwinds through the Wait that ran it as a panic the test can recover,
// and leaves the kernel usable, its lock free and its peers still run.
func TestPanicInPeer(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	calls := 0
	k.Handle(b, func(fd int, ev mux.Events) {
		calls++
		if calls == 1 {
			panic("boom")
		}
		k.Write(fd, []byte("x"))
	})
	wait := func(want any) {
		defer func() {
			if got := recover(); got != want {
				t.Errorf("recovered %v from the Wait; want %v", got, want)
			}
		}()
		if got := waitFor(t, m, a, 2*time.Second); got != mux.Readable {
			t.Errorf("Wait reported a as %v; want Readable, the handler's answer", got)
		}
	}
	wait("boom")
	wait(nil) // the handler is run again, and answers this time
	k.Read(a, make([]byte, 1))
	k.After(time.Second, func() { panic("bang") })
	wait("bang")
	k.Write(a, []byte("ping"))
	wait(nil) // the kernel is still usable: its lock is free, its peers run
}
