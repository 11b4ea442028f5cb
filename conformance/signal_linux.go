package conformance

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// interrupted runs fn on a locked thread while another goroutine sends that
// thread SIGURG, the Go runtime's preemption signal, every half
// millisecond: a blocking system call in fn returns EINTR over and over,
// as it does in real programs now and then.
func (c *C) interrupted(fn func() waitResult) waitResult {
	tid := make(chan int, 1)
	out := make(chan waitResult, 1)
	go func() {
		var w waitResult
		defer func() { out <- w }()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		w = fn()
	}()
	t := <-tid
	pid := unix.Getpid()
	tick := time.NewTicker(500 * time.Microsecond)
	defer tick.Stop()
	for {
		select {
		case w := <-out:
			return w
		case <-tick.C:
			unix.Tgkill(pid, t, unix.SIGURG)
		}
	}
}
