//go:build unix && !(linux || freebsd || dragonfly || illumos)

package loop

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Where socket and accept take no flags (or x/sys/unix does not offer
// accept4), the descriptor is made non-blocking and close-on-exec after
// it is made. The loop does not fork, so the moment between matters only
// to a program that starts others from another goroutine at that time.

func newSocket(family int) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	return prepared(fd)
}

func accept(lfd int) (int, error) {
	fd, _, err := unix.Accept(lfd)
	if err != nil {
		return -1, err
	}
	return prepared(fd)
}

// prepared makes fd non-blocking and close-on-exec, and closes it if it
// cannot.
func prepared(fd int) (int, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("set non-blocking: %w", err)
	}
	unix.CloseOnExec(fd)
	return fd, nil
}
