//go:build unix

// Package osmux is the core that the operating-system backends of muxkit
// share — mux/epoll, mux/poll and mux/select: the registration table, the
// waker (an eventfd on Linux, a pipe elsewhere), and one Wait with its
// deadline, its retry after EINTR, its Wake protocol and its Close.
//
// Core implements mux.Multiplexer for a backend of one Kind; each backend
// package embeds one. Each kind is a file that says only what differs:
// how a registration reaches the kernel (epoll_ctl for epoll, which keeps
// the set; a rebuilt pollfd array or fd_set templates for poll and
// select, whose blocked call must then be made to return and called
// again), the arguments of the system call, and how its results become
// mux.Events. Core dispatches to the kind with a switch, not through an
// interface, and makes the system calls of Wait itself: see Core.Wait.
//
// # How a blocked Wait is made to come out
//
// A Wait that is about to block in the kernel arms itself (an atomic
// flag), then looks once more at what could need it out — Close, a
// pending Wake, a change of the set, all in one atomic word — and only
// then makes its call, which watches the waker too. Wake, a change and
// Close each write that word first, then disarm the Wait with a
// compare-and-swap and, if they were the one to disarm it, write the
// waker. As each side writes before it reads what the other writes, at
// least one of them sees the other: either the Wait does not block, or
// its call is made to return. The waker is written at most once per
// blocking call, always with the Core's mutex held, and the Wait that
// finds itself disarmed drains it under the same mutex, so that no write
// outlives the call it was meant for. A Wait(0) never pays for the waker:
// it does not arm, and does not watch it.
//
// A Wake is pending from the Wake until a Wait returns: the Wait that
// sees it clears it and returns, with what it found or (0, nil). An
// internal restart after a change clears nothing, so it is never mistaken
// for a Wake, which would end a Wait early.
//
// # Close while a Wait is in the kernel
//
// Close marks the Core closed and disarms and wakes a blocked Wait as
// Wake does, then waits until the Wait in progress, if any, has returned:
// only then does it close the waker and the kernel's side, so that their
// numbers cannot be reused under a running call. A Wait that starts after
// Close finds the Core closed before it touches either.
package osmux
