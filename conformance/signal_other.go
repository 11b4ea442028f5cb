//go:build unix && !linux

package conformance

import (
	"time"

	"golang.org/x/sys/unix"
)

// interrupted runs fn while the process receives SIGURG, the Go runtime's
// preemption signal, every half millisecond. Without a way to aim at one
// thread, the signals reach the Wait's thread only sometimes.
// It returns what fn returned and how many signals were sent.
func (c *trial) interrupted(fn func() waitResult) (waitResult, int) {
	signals := 0
	out := make(chan waitResult, 1)
	go func() {
		var r waitResult
		defer func() { out <- r }()
		r = fn()
	}()
	pid := unix.Getpid()
	tick := time.NewTicker(500 * time.Microsecond)
	defer tick.Stop()
	for {
		select {
		case r := <-out:
			return r, signals
		case <-tick.C:
			if unix.Kill(pid, unix.SIGURG) == nil {
				signals++
			}
		}
	}
}
