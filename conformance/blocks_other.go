//go:build unix && !linux

package conformance

// blocks reports false: golang.org/x/sys/unix has no per-thread count of
// voluntary context switches for this system, so only CPU time is
// measured.
func blocks() (int64, bool) { return 0, false }
