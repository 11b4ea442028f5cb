// Package epollwait is a muxkit backend written outside muxkit, as an
// example of one: a mux.Multiplexer over epoll(7) that waits with
// epoll_wait(2) alone, so that it runs on kernels older than 5.11, which
// lack epoll_pwait2. Its timeouts are whole milliseconds, rounded up by
// package mux/timeout, and its Info says so.
//
// Importing the package registers the backend with package mux/backend
// under the name "epollwait", with its raw loop (epoll_ctl and
// epoll_wait and nothing else), so that backend.Open("epollwait"),
// MUXKIT_BACKEND=epollwait and package report see it. It is Linux only;
// elsewhere the package is empty.
package epollwait
