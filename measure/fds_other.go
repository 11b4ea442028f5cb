//go:build unix && !linux

package measure

import "golang.org/x/sys/unix"

// newIdle returns a descriptor that is never ready for reading: the read
// end of a pipe whose write end, extra, stays open and unwritten.
func newIdle() (fd, extra int, err error) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return -1, -1, err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		unix.SetNonblock(fd, true)
	}
	return p[0], p[1], nil
}

// newReady returns a descriptor that stays ready for reading until it is
// read: the read end of a pipe with one byte in it; extra is the write end.
func newReady() (fd, extra int, err error) {
	fd, extra, err = newIdle()
	if err != nil {
		return -1, -1, err
	}
	if _, err := unix.Write(extra, []byte{1}); err != nil {
		unix.Close(fd)
		unix.Close(extra)
		return -1, -1, err
	}
	return fd, extra, nil
}
