package conformance

import "golang.org/x/sys/unix"

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
	return ru.Nvcsw, true
}
