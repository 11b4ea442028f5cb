//go:build unix

// Package epoll is the Linux epoll(7) backend of muxkit: a
// [mux.Multiplexer] that keeps every rule of the contract stated in package
// [mux].
//
//	m, err := epoll.New()
//	...
//	defer m.Close()
//	m.Add(fd, mux.Readable)
//	n, err := m.Wait(events, time.Second)
//
// # How the contract maps onto epoll
//
// Registrations are level-triggered unless their interest holds a mode:
// mux.EdgeTriggered is EPOLLET and mux.OneShot EPOLLONESHOT, both kept by
// the kernel, and every Modify reaches epoll_ctl, even to the same
// interest, since that is how the kernel re-arms a one-shot registration
// and looks again at an edge-triggered one. A Wait that a Wake or Close
// ends keeps what epoll_wait returned with it: under a mode those events
// are off the kernel's ready list. Readable asks for EPOLLIN|EPOLLRDHUP,
// Writable for EPOLLOUT and Priority for EPOLLPRI. Reports map EPOLLIN to
// Readable, EPOLLOUT to Writable, EPOLLPRI to Priority, EPOLLRDHUP to
// ReadHangup, EPOLLHUP to Hangup and EPOLLERR to Error. Because a read or
// a write on a hung-up or failed descriptor does not block (it returns end
// of file or the error), EPOLLHUP and EPOLLERR also report Readable and
// Writable, and EPOLLRDHUP reports Readable, each only when asked for: a
// pipe whose writer closed is Readable although the kernel reports only
// EPOLLHUP. A reported set never holds a condition outside the interest
// plus ReadHangup|Hangup|Error.
//
// Timeouts use epoll_pwait2 with nanosecond resolution where the kernel has
// it (Linux 5.11 and later), and otherwise epoll_wait with the timeout
// rounded up to whole milliseconds; [mux.Info].Resolution says which. EINTR is
// retried with the time left before a deadline fixed when Wait started.
//
// The kernel keeps its ready list in round-robin order, so when more
// descriptors are ready than fit in the events slice, repeated Waits report
// every one of them.
//
// Wake writes to an eventfd registered with the epoll instance; the eventfd
// is never reported. Close wakes a blocked Wait, waits for it to leave the
// kernel, and only then closes the epoll descriptor and the eventfd, so
// that neither number can be reused under a running Wait.
//
// # Descriptors closed without Remove
//
// epoll watches open file descriptions, not numbers. Closing a descriptor
// without Remove drops it from the kernel's set (unless another descriptor
// still refers to the same file description, in which case the kernel goes
// on reporting it under the old number, which no Remove can reach: see
// epoll(7), questions 6 and 7). Mux keeps its own record of what the caller
// added, and "added" means "Add succeeded and Remove has not been called".
// So for a descriptor closed without Remove:
//
//   - Remove succeeds and forgets it, and the number can be added again
//     after the OS reuses it;
//   - Add of the number is ErrBadFD while it is closed (a bad descriptor
//     comes before ErrExists in the contract's order of errors), and
//     ErrExists once the OS has reused it for another file: Mux cannot tell
//     a reused number from the caller adding the same descriptor twice, and
//     the poll and select backends cannot either, so it refuses, as they
//     do. Remove it, then Add it;
//   - Modify is ErrBadFD (wrapping EBADF if the number is closed, ENOENT if
//     it names another file now).
//
// Remove before close, always.
//
// # Other systems
//
// On systems other than Linux the package compiles, so code that chooses a
// backend at run time builds everywhere, but [New] returns an error wrapping
// [errors.ErrUnsupported], and so does every method of [Mux] except Close.
//
// # Testing
//
// The package's tests run the shared suite of package
// [github.com/muxkit/muxkit/conformance], which checks each rule of the
// contract against this backend. To test code that uses a Multiplexer
// without real descriptors or real time, use package
// [github.com/muxkit/muxkit/mux/fake].
package epoll
