//go:build unix && !linux

package pollset

import "golang.org/x/sys/unix"

// waker is the wake descriptor: the two ends of a non-blocking,
// close-on-exec pipe on systems without eventfd.
type waker struct {
	r, w int
}

func newWaker() (waker, error) {
	var p [2]int
	if err := pipe(&p); err != nil {
		return waker{-1, -1}, err
	}
	return waker{p[0], p[1]}, nil
}

func (k *waker) signal() error {
	b := [1]byte{1}
	for {
		_, err := unix.Write(k.w, b[:])
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN: // the pipe is full: it is readable anyway
			return nil
		}
		return err
	}
}

// drain reads until the pipe is empty. The Set writes at most one byte
// between drains, so this is one read in practice.
func (k *waker) drain() {
	var buf [64]byte
	for {
		n, err := unix.Read(k.r, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(buf) {
			return
		}
	}
}

func (k *waker) close() error {
	err := unix.Close(k.r)
	if err2 := unix.Close(k.w); err == nil {
		err = err2
	}
	return err
}
