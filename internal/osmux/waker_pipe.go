//go:build unix && !linux

package osmux

import "golang.org/x/sys/unix"

// waker is the descriptor that makes a blocked call return: the two ends
// of a non-blocking, close-on-exec pipe on systems without eventfd.
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

// signal writes a byte, which makes the read end readable.
func (k *waker) signal() error {
	b := [1]byte{1}
	for {
		_, err := unix.Write(k.w, b[:])
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN: // the pipe is full: readable anyway
			return nil
		}
		return err
	}
}

// drain reads until the pipe is empty. A Core writes at most one byte
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
