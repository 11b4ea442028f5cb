//go:build unix

// Package selectmux is a [mux.Multiplexer] over select(2), for any Unix
// system. (select is a Go keyword, hence the package name.)
//
// It keeps every rule of the contract in package [mux]. What it can do, as
// [mux.Info] reports it:
//
//   - it reports Readable, Writable, Priority (select's exception set) and
//     Error; it cannot tell a hangup from readability, so it never reports
//     Hangup or ReadHangup;
//   - it watches descriptors below FD_SETSIZE (1024) only: Add of a larger
//     one is [mux.ErrFDLimit] (golang.org/x/sys/unix's FdSet would panic);
//   - the cost of Wait grows with the largest added descriptor;
//   - regular files are accepted and reported always ready;
//   - timeouts have a resolution of 1ns where pselect is available
//     (Linux, FreeBSD) and are rounded up to the microsecond elsewhere;
//   - one-shot registrations (mux.OneShot) are kept by the Multiplexer: a
//     report leaves the descriptor out of the fd sets until Modify re-arms
//     it;
//   - edge-triggered ones (mux.EdgeTriggered) are refused with
//     mux.ErrInvalid wrapping errors.ErrUnsupported: select(2) reports
//     states, not events, so it cannot see data arrive on a descriptor
//     that already had unread data, nor data read and replaced between
//     two calls, and an emulation would miss edges that epoll reports —
//     a loop that relied on them would hang.
//
// select fails as a whole with EBADF when one watched descriptor was
// closed while added. The Multiplexer then finds the closed descriptors
// itself, reports each as Error (on every Wait, as long as it stays added
// and closed) and keeps serving the others. The fd sets are copied from
// templates built from the registrations before every call, since select
// overwrites them, and are cleared after a failed or interrupted call so
// that the input sets are never mistaken for results.
//
// Add, Modify and Remove made while another goroutine is blocked in Wait
// take effect for that Wait, as in package
// [github.com/muxkit/muxkit/mux/poll]: the Multiplexer
// interrupts its own call through its wake descriptor and calls again with
// the time left; a Wait(0), which does not block, leaves the wake
// descriptor out of its call.
//
// # Testing
//
// Package [github.com/muxkit/muxkit/conformance] runs the contract's
// checks against this backend (see conformance_test.go); package
// [github.com/muxkit/muxkit/mux/fake] stands in for any backend in
// tests of event-loop code.
package selectmux
