//go:build linux

package pollsettest

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// testEINTR interrupts the waiting thread with SIGURG (the Go runtime's
// preemption signal, which it ignores otherwise) again and again; EINTR
// must not reach the caller, and the Wait must not end early (rule 5).
func testEINTR(t *testing.T, m Mux) {
	a, _ := Pair(t)
	add(t, m, a, mux.Readable)
	const timeout = 200 * time.Millisecond
	tids := make(chan int, 1)
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tids <- unix.Gettid()
		start := time.Now()
		n, err := m.Wait(make([]mux.Event, 1), timeout)
		done <- result{n: n, err: err, elapsed: time.Since(start)}
	}()
	tid := <-tids
	pid := unix.Getpid()
	signals := 0
	for {
		select {
		case r := <-done:
			if signals == 0 {
				t.Fatalf("no signal was sent during the Wait")
			}
			if r.n != 0 || r.err != nil || r.elapsed < timeout {
				t.Fatalf("Wait(%v) interrupted by %d signals = %d, %v after %v; want 0, nil after the full timeout (rule 5)", timeout, signals, r.n, r.err, r.elapsed)
			}
			return
		case <-time.After(10 * time.Second):
			t.Fatalf("Wait(%v) did not return within 10s under signals", timeout)
		default:
		}
		if err := unix.Tgkill(pid, tid, unix.SIGURG); err != nil {
			t.Fatalf("tgkill: %v", err)
		}
		signals++
		time.Sleep(time.Millisecond)
	}
}
