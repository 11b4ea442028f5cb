//go:build unix && !linux

package conformance

import (
	"time"

	"golang.org/x/sys/unix"
)

// interrupted runs fn while the process receives SIGURG, the Go runtime's
// preemption signal, every half millisecond. Without a way to aim at one
// thread, the signals reach the Wait's thread only sometimes.
func (c *C) interrupted(fn func() waitResult) waitResult {
	out := make(chan waitResult, 1)
	go func() {
		var w waitResult
		defer func() { out <- w }()
		w = fn()
	}()
	pid := unix.Getpid()
	tick := time.NewTicker(500 * time.Microsecond)
	defer tick.Stop()
	for {
		select {
		case w := <-out:
			return w
		case <-tick.C:
			unix.Kill(pid, unix.SIGURG)
		}
	}
}
