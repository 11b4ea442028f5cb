//go:build unix

// Package poll is a [mux.Multiplexer] over poll(2), for any Unix system.
//
// It keeps every rule of the contract in package [mux]. What it can do, as
// [mux.Info] reports it:
//
//   - it reports [mux.Readable], [mux.Writable], [mux.Priority],
//     [mux.Hangup] and [mux.Error], and [mux.ReadHangup] (POLLRDHUP) on
//     Linux;
//   - a descriptor closed while added (POLLNVAL) is reported as Error, not
//     as Readable|Writable, so a loop does not spin on it;
//   - there is no limit on descriptor numbers beyond the process's;
//   - the cost of Wait grows with the number of added descriptors (the
//     whole array goes to the kernel on each call);
//   - regular files are accepted and reported always ready;
//   - timeouts have a resolution of 1ns where ppoll exists (Linux,
//     FreeBSD) and are rounded up to the millisecond elsewhere;
//   - one-shot registrations (mux.OneShot) are kept by the Multiplexer: a
//     report leaves the descriptor out of the pollfd array until Modify
//     re-arms it, since poll(2) would still report its hangups and errors;
//   - edge-triggered ones (mux.EdgeTriggered) are refused with
//     mux.ErrInvalid wrapping errors.ErrUnsupported: poll(2) reports
//     states, not events, so it cannot see data arrive on a descriptor
//     that already had unread data, nor data read and replaced between
//     two calls, and an emulation would miss edges that epoll reports —
//     a loop that relied on them would hang.
//
// The pollfd array is kept between Waits and rebuilt only after Add,
// Modify or Remove. Those calls, made while another goroutine is blocked in
// Wait, take effect for that Wait: the Multiplexer interrupts its own
// ppoll through its wake descriptor (an eventfd on Linux, a pipe
// elsewhere) and calls again with the time left; a Wait(0), which does not
// block, leaves the wake descriptor out of its call. EINTR is retried the
// same way. When more descriptors are ready than fit in the events slice, the
// next Wait starts its scan where the last one stopped, so none starves.
//
// # Testing
//
// Package [github.com/muxkit/muxkit/conformance] runs the contract's
// checks against this backend (see conformance_test.go); package
// [github.com/muxkit/muxkit/mux/fake] stands in for any backend in
// tests of event-loop code.
package poll
