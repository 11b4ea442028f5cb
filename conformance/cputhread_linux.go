package conformance

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// blocks returns how many times the calling thread has given up its core
// of its own accord (voluntary context switches): at least once in every
// Wait that sleeps in the kernel, never in one that spins, however loaded
// the machine is — where CPU time alone can hide a spinner that gets only
// a small share of a core.
func blocks() (int64, bool) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return int64(ru.Nvcsw), true // int32 on 32-bit Linux
}

// awake returns how long the calling thread has been on a core or waiting
// in a run queue for one (the first two fields of its schedstat): all of a
// Wait's time if it spins, however small its share of a core on a loaded
// machine; little of it if it sleeps in the kernel. The Go runtime parks a
// locked thread now and then, which voluntary context switches count, so
// a spinner may block a few times; it is still awake nearly throughout.
func awake() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/thread-self/schedstat")
	if err != nil {
		return 0, false
	}
	var run, queued int64
	if _, err := fmt.Sscan(string(b), &run, &queued); err != nil {
		return 0, false
	}
	return time.Duration(run + queued), true
}
