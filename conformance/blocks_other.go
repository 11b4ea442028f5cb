//go:build unix && !linux

package conformance

import "time"

// blocks reports false: golang.org/x/sys/unix has no per-thread count of
// voluntary context switches for this system, so only CPU time is
// measured.
func blocks() (int64, bool) { return 0, false }

// awake reports false: only Linux says how long a thread waited in a run
// queue.
func awake() (time.Duration, bool) { return 0, false }
