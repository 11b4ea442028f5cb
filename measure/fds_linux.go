//go:build linux

package measure

import "golang.org/x/sys/unix"

// newIdle returns a descriptor that is never ready for reading: an
// eventfd whose counter is 0. It needs one descriptor; extra is -1.
func newIdle() (fd, extra int, err error) {
	fd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	return fd, -1, err
}

// newReady returns a descriptor that stays ready for reading until it is
// read: an eventfd whose counter is 1. extra is -1.
func newReady() (fd, extra int, err error) {
	fd, err = unix.Eventfd(1, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	return fd, -1, err
}
