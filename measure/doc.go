// Package measure holds the performance scenarios of muxkit, written once
// and used both by benchmarks (go test -bench) and by the report of
// package report, for the backends of this module and for any other.
//
// Every scenario is prepared twice over the same kind of descriptors, as
// a [Scenario]: Mux runs it through a backend's [mux.Multiplexer], Raw
// through the backend's raw loop ([backend.RawLoop]), which makes the same system
// calls directly and nothing else — no locks, no checks, no deadline, no
// rotation. The raw loop is what a hand-written event loop costs at least,
// so Mux/Raw is the price of the contract. The backends of this module
// register theirs, which make the system calls the backends make, with the
// same arguments: epoll_pwait (unix.EpollWait) for timeout 0, ppoll and
// pselect6 on Linux, ppoll and pselect on FreeBSD, poll and select
// elsewhere. A backend registered without a raw loop is measured on its
// own: its Scenarios have no Raw, and [Compare] gives its time with no
// ratio.
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
// [Compare] runs the two sides of a [Scenario] in alternating short chunks and
// returns the median ratio of their adjacent chunks, which stays steady on
// a shared, noisy machine where absolute times do not. Prepare and Bench
// do the same inside a testing.B, so a backend's own benchmarks are a few
// lines:
//
//	func BenchmarkWait(b *testing.B) {
//		be, _ := backend.Lookup("mine")
//		p := measure.Prepare(b, func() (*measure.Scenario, error) { return measure.Wait(be, 100) })
//		measure.Bench(b, p, "raw", "mux")
//	}
//
// The scenarios take a [backend.Backend]: one from [backend.Lookup], or one
// made on the spot.
//
// It builds on Unix systems only: its scenarios are made of the
// descriptors and system calls of the OS backends (socketpairs, pipes,
// epoll, poll, select), which other systems do not have.
package measure
