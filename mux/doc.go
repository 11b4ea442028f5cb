// Package mux is the contract of muxkit: one narrow interface,
// [Multiplexer], over the operating system's readiness APIs — select(2),
// poll(2) and epoll(7) — and over the deterministic fake in package
// [github.com/muxkit/muxkit/mux/fake].
//
// A Multiplexer watches descriptors for readiness. [Multiplexer.Add],
// [Multiplexer.Modify] and [Multiplexer.Remove] change what it watches;
// [Multiplexer.Wait] reports what is ready; [Multiplexer.Wake] interrupts
// a Wait from another goroutine; [Multiplexer.Close] releases the
// Multiplexer. The package itself makes no system calls: backends live in
// mux/epoll, mux/poll and mux/select (package selectmux), and package
// [github.com/muxkit/muxkit/mux/backend] opens one by name.
//
// # The contract
//
// Every backend keeps thirteen rules, numbered 1 to 13 (rule 13 for the
// modes its Info claims); package conformance checks each of them, and
// docs/conformance.md lists its checks. Beside
// them is rule 0: a backend's self-description, [Info], is true, because
// code and the suite decide from it what to expect. The reason for each
// rule, with the public bug reports behind it, is in docs/contract.md.
//
//  1. Interest. An interest is a non-empty subset of [Interest]
//     (Readable|Writable|Priority), with any of the [Modes] that
//     [Info.Modes] claims (rule 13); anything else is [ErrInvalid], checked
//     before the descriptor (see [CheckInterest] and [CheckModes], whose
//     error for a mode the backend does not keep also wraps
//     [errors.ErrUnsupported]). Add of a closed
//     descriptor is [ErrBadFD] on every backend. A failed Add or Modify
//     leaves no registration half made. When a call is wrong in several
//     ways, every backend names the same one, in this order: a closed
//     Multiplexer ([ErrClosed]); an invalid argument — interest, or an
//     empty events slice (ErrInvalid); a bad descriptor — negative or too
//     large for the kernel's C int (ErrBadFD), at or past [Info.MaxFD]
//     ([ErrFDLimit]), or, for Add, not open (ErrBadFD); then the
//     registration ([ErrExists], [ErrNotAdded]), or for Wait, [ErrBusy]. Code written against
//     one backend then reads the same error from another. Modify and
//     Remove do not ask the OS whether a descriptor is open (rule 10). Add
//     of a descriptor the backend opened itself — its wake descriptor,
//     epoll's own — is ErrInvalid: a number the caller closed and still
//     holds may name one of them now, and watched, the wake descriptor
//     would be reported (rule 7).
//
//  2. Level-triggered. Unless a mode says otherwise (rule 13), while a
//     condition holds, every Wait reports it. A
//     condition made true before Wait is called — by any goroutine or OS
//     thread, such as a write that has returned — is reported by that
//     Wait, Wait(0) included: a loop that polls right after a worker hands
//     it data must see the data. A condition that ended before Wait was
//     called is not reported: a Wait reports what holds when it is called,
//     or becomes true while it waits, not what held at some time since the
//     last one.
//
//  3. What is reported. At most one [Event] per descriptor per Wait. Its
//     [Events] is a non-empty subset of [Reportable](interest): the
//     interest, [Hangup] and [Error], and [ReadHangup] only with
//     [Readable] interest;
//     Writable never appears unless asked for. End of file and peer close
//     make a descriptor Readable (if asked). Hangup and Error are reported
//     whatever the interest, as the kernel reports them, so that a loop
//     waiting only for room to write learns that the peer has gone; where
//     a backend cannot see them, [Info.Reports] says so (select sees no
//     hangup, and its Error is only a descriptor closed while added). A
//     condition a backend watches but must not report, such as ReadHangup
//     without Readable, never wakes Wait: it does not spin.
//
//  4. Timeouts. A negative timeout blocks until an event, a Wake or Close;
//     zero polls and returns at once; a positive timeout never returns
//     (0, nil) before it has elapsed unless Wake was called. Backends round
//     up, never down, to their resolution (a 100µs timeout is not a busy
//     zero), and clamp huge values instead of overflowing. A timeout with
//     nothing added still waits. A timed Wait sleeps in the kernel, it does
//     not spin: with nothing ready, Wait(d) uses a small fraction of d in
//     CPU time beyond what a bare sleep of d in the kernel costs (the suite
//     allows a quarter, over Waits just under a millisecond), or a loop
//     between timers burns a core.
//
//  5. EINTR never reaches the caller. The Go runtime interrupts system
//     calls routinely (its preemption signal); backends retry with the time
//     left before a deadline fixed when Wait started.
//
//  6. Room. An empty events slice is ErrInvalid. When more descriptors are
//     ready than fit, Wait fills the slice, and repeated Waits eventually
//     report every ready descriptor: none starves.
//
//  7. Wake is safe from any goroutine. After it returns, the Wait in
//     progress, or else the next one, returns promptly (possibly with
//     n == 0). Wakes coalesce: any number of Wakes made before a Wait
//     returns are used up by that return, so the Wait after it waits its
//     full timeout. The internal wake descriptor is never reported.
//
//  8. Concurrency. Every method is safe for concurrent use. Add, Modify and
//     Remove made while a Wait is blocked take effect for that Wait. A
//     second concurrent Wait returns ErrBusy and leaves the running Wait
//     undisturbed: later concurrent Waits are refused too, and Close still
//     ends the running one.
//
//  9. Close releases every descriptor the backend opened (all opened with
//     close-on-exec), makes a blocked Wait return ErrClosed, and makes every
//     later call return ErrClosed — except Close itself, which is
//     idempotent.
//
//  10. Closed while added. Closing a descriptor without Remove is a caller
//     bug, but it does not break the Multiplexer: Wait keeps serving the
//     other descriptors and never fails as a whole or spins silently; the
//     closed one is reported with Error or not at all; Remove of it
//     succeeds, and the number can be added again after the OS reuses it.
//     epoll watches open file descriptions, not numbers: Remove a
//     descriptor before closing it, always. Remove releases at once
//     whatever the backend holds on the descriptor, so that closing it
//     after Remove really closes it: the peer sees end of file without
//     another Wait.
//
//  11. Regular files. epoll refuses them (ErrInvalid wrapping EPERM, with
//     nothing left registered); poll and select accept them as always
//     ready. [Info.RegularFiles] says which.
//
//  12. No allocation in Add, Modify, Remove or Wait in steady state.
//
//  13. Modes, where Info.Modes claims them. An edge-triggered registration
//     ([EdgeTriggered]) is reported once per edge, not on every Wait while
//     a condition holds. An edge is what the kernel tells a descriptor's
//     waiters of — data arriving, whether or not unread data was there
//     before; room to write freed after a write found none; a connection
//     to accept; end of stream, a hangup, an error, a close — and, at Add
//     and at every Modify (to the same interest too), a condition that
//     holds then. A report carries every condition that holds when it is
//     made; an edge whose conditions all ended before a Wait looked is
//     dropped. A loop must read, accept or write until EAGAIN, and handle
//     every event of a batch: what it leaves is not reported again until
//     the next edge. A one-shot registration ([OneShot]) is disabled by
//     its report: nothing, Hangup and Error included, is reported for it
//     until Modify re-arms it, to the same interest or another (or Remove
//     and Add); Modify then reports at once a condition that holds. With
//     both modes, each re-arm is an edge if a condition holds. Modify to
//     an interest without a mode makes the registration level-triggered
//     at once. Neither mode loses a report: one that does not fit in the
//     events slice is made by a later Wait (rule 6), and a Wake does not
//     use one up — the Wait it ends reports what it found, or leaves it to
//     the next. A descriptor closed while added with a mode is reported at
//     most once, with Error, or not at all, and Remove of it succeeds
//     (rule 10). Close ends every registration, whatever its mode.
//
// Errors are [*OpError] values that carry the backend, the operation and
// the descriptor, and unwrap both to one of this package's Err values and
// to the operating-system error, so [errors.Is](err, ErrInvalid) and
// errors.Is(err, unix.EPERM) can both hold.
//
// # Backends differ
//
// [Info], returned by [Describe], says what a backend is and can do: its name,
// the largest descriptor it can watch, the conditions it can report,
// whether Wait's cost grows with the number of descriptors, whether it
// accepts regular files, its timeout resolution, and the modes it keeps
// (epoll both, as EPOLLET and EPOLLONESHOT; poll and select one-shot
// only: they see states, not events, so edges between two calls are lost
// to them). Choose by those properties, not by name.
//
// # Testing
//
// Package [github.com/muxkit/muxkit/conformance] is the suite every
// backend passes: conformance.Run(t, harness) from a backend's own tests,
// with conformance.OS for backends of real descriptors; run it with the
// race detector too (go test -race). Package
// [github.com/muxkit/muxkit/mux/fake] is a deterministic simulated kernel
// with a Multiplexer over it — virtual descriptors, a virtual clock,
// seeded fault injection — for unit tests of event loops that need no
// sockets, no sleeps and no luck. Package
// [github.com/muxkit/muxkit/mux/muxmock] is a gomock mock of Multiplexer,
// for tests where the order of calls is the point.
//
// # Systems
//
// This package, package fake and package statemachine build on every
// system Go supports but Plan 9 (whose system calls have no errno values),
// Windows, js and wasip1 included, so code that needs only the contract,
// the fake and the machines can be tested there too. The OS backends need
// a Unix kernel.
package mux
