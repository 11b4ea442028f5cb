//go:build linux

package pollset

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// waker is the wake descriptor: an eventfd on Linux. r and w are the same
// descriptor.
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

func (k *waker) signal() error {
	one := uint64(1)
	_, err := unix.Write(k.w, (*[8]byte)(unsafe.Pointer(&one))[:])
	if err == unix.EAGAIN { // the counter is full: it is signalled anyway
		err = nil
	}
	return err
}

// drain resets the counter to zero in one read.
func (k *waker) drain() {
	var buf [8]byte
	for {
		_, err := unix.Read(k.r, buf[:])
		if err != unix.EINTR {
			return
		}
	}
}

func (k *waker) close() error {
	return unix.Close(k.r)
}
