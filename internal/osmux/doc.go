//go:build unix

// Package osmux is the core that the operating-system backends of muxkit
// share — mux/epoll, mux/poll and mux/select: the registration table, the
// waker (an eventfd on Linux, a pipe elsewhere), and one Wait loop with
// its deadline, its retry after EINTR, its Wake protocol and its Close.
//
// A backend supplies a Poller, the part that differs: how a registration
// reaches the kernel, the system call, and how its results become
// mux.Events. Core implements every method of mux.Multiplexer around it.
// A Poller whose kernel keeps the registrations (epoll) is a Controller:
// each change is made in the kernel at once. A Poller that hands the
// whole set to each call (poll, select) is a Loader: a change is recorded
// in the table, and a Wait blocked in the kernel is made to come out,
// load the new set and call again with the time left.
//
// # How a blocked Wait is made to come out
//
// A Wait that is about to block in the kernel arms itself (an atomic
// flag), then looks once more at what could need it out — Close, a
// pending Wake, a change of the set — and only then makes its call, which
// watches the waker too. Wake, a change and Close each record what they
// did (an atomic flag, a generation count), then disarm the Wait with a
// compare-and-swap and, if they were the one to disarm it, write the
// waker. As each side writes its own flag before it reads the other's,
// at least one of them sees the other: either the Wait does not block, or
// its call is made to return. The waker is written at most once per
// blocking call, always with the Core's mutex held, and the Wait that
// finds itself disarmed drains it under the same mutex, so that no write
// outlives the call it was meant for and a Wait(0) never pays for the
// waker: it does not arm, and does not watch the waker.
//
// A Wake is pending from the Wake until a Wait returns: the Wait that
// sees it clears it and returns, with what it found or (0, nil). An
// internal restart after a change clears nothing, so it is never mistaken
// for a Wake, which would end a Wait early.
//
// # Close while a Wait is in the kernel
//
// Close marks the Core closed, disarms and wakes a blocked Wait as Wake
// does, then takes the Wait lock, which the Wait holds until it returns,
// and keeps it: only then does it close the waker and the Poller's
// descriptors, so that their numbers cannot be reused under a running
// call, and later Waits find the lock taken and return ErrClosed.
package osmux
