package conformance

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// interrupted runs fn on a locked thread while another goroutine sends that
// thread SIGURG, the Go runtime's preemption signal, every half
// millisecond: a blocking system call in fn returns EINTR over and over,
// as it does in real programs now and then. It returns what fn returned
// and how many signals were sent.
func (c *trial) interrupted(fn func() waitResult) (waitResult, int) {
	signals := 0
	tid := make(chan int, 1)
	out := make(chan waitResult, 1)
	go func() {
		var r waitResult
		defer func() { out <- r }()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		r = fn()
	}()
	t := <-tid
	pid := unix.Getpid()
	tick := time.NewTicker(500 * time.Microsecond)
	defer tick.Stop()
	for {
		select {
		case r := <-out:
			return r, signals
		case <-tick.C:
			if unix.Tgkill(pid, t, unix.SIGURG) == nil {
				signals++
			}
		}
	}
}
