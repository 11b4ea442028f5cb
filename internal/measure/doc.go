// Package measure holds the performance scenarios of muxkit, written once
// and used both by the benchmarks (go test -bench) and by the report of
// cmd/muxkit.
//
// Every scenario is prepared twice over the same kind of descriptors, as a
// Pair: Mux runs it through a backend's mux.Multiplexer, Raw through a
// loop that makes the same system calls directly with golang.org/x/sys/unix
// and nothing else — no locks, no checks, no deadline, no rotation. The
// raw loop is what a hand-written event loop costs at least, so Mux/Raw is
// the price of the contract. For timeout 0 the syscalls are the ones the
// backends make: epoll_pwait (unix.EpollWait), ppoll and pselect6 on
// Linux; poll and select elsewhere.
//
// The scenarios are:
//
//   - Wait: one ready descriptor among N idle ones, Wait with timeout 0;
//   - Batch: many ready descriptors, all reported by one Wait;
//   - PingPong: one byte back and forth over a socketpair on one
//     goroutine, with blocking Waits;
//   - AddRemove and Modify: registration changes;
//   - FakeWait, FakeRead and FakeWrite: package mux/fake against the
//     system calls it stands for;
//   - Timeout: how long Wait(d) takes with nothing ready.
//
// Compare runs the two sides of a Pair in alternating short chunks and
// returns the median ratio of their adjacent chunks, which stays steady on
// a shared, noisy machine where absolute times do not.
//
// The package imports no backend: callers hand it a Backend that opens
// one (package mux/backend does that by name).
package measure
