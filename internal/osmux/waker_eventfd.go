//go:build linux

package osmux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// one is 1 in the eventfd's byte order, the host's.
var one = binary.NativeEndian.AppendUint64(nil, 1)

// waker is the descriptor that makes a blocked call return: an eventfd on
// Linux. r and w are the same descriptor.
type waker struct {
	r, w int
}

func newWaker() (waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return waker{-1, -1}, err
	}
	return waker{fd, fd}, nil
}

// signal adds 1 to the counter, which makes it readable.
func (k *waker) signal() error {
	for {
		_, err := unix.Write(k.w, one)
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN: // the counter is full: readable anyway
			return nil
		}
		return err
	}
}

// drain resets the counter to zero in one read; EAGAIN if it was zero.
func (k *waker) drain() {
	var buf [8]byte
	for {
		if _, err := unix.Read(k.r, buf[:]); err != unix.EINTR {
			return
		}
	}
}

func (k *waker) close() error { return unix.Close(k.r) }
