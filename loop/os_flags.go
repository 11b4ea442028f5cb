//go:build linux || freebsd || dragonfly || illumos

package loop

import "golang.org/x/sys/unix"

// The descriptors come non-blocking and close-on-exec from the call that
// makes them: one system call where the portable way takes four, and no
// moment in which a program starting another one from another goroutine
// hands it the descriptor.

func newSocket(family int) (int, error) {
	return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

func accept(lfd int) (int, error) {
	fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	return fd, err
}
