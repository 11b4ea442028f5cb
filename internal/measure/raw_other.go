//go:build unix && !linux

package measure

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// pollRDHUP is 0: POLLRDHUP is Linux only.
const pollRDHUP = 0

// DefaultRaw is the raw loop the fake is compared with: the system call
// of the best backend here.
const DefaultRaw = "poll"

// millis rounds a timeout up to whole milliseconds; negative stays -1.
func millis(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// call makes poll(2), whose timeout is in milliseconds: the raw loop here
// is the portable one, while package mux/poll uses ppoll where it can.
func (p *rawPoll) call(d time.Duration) (int, error) {
	return unix.Poll(p.pfds, millis(d))
}

// call makes select(2) with a microsecond timeval, rounded up.
func (s *rawSelect) call(w *unix.FdSet, d time.Duration) (int, error) {
	if d < 0 {
		return unix.Select(s.nfd, &s.r, w, nil, nil)
	}
	us := (d + time.Microsecond - 1) / time.Microsecond
	tv := unix.NsecToTimeval(int64(us * time.Microsecond))
	return unix.Select(s.nfd, &s.r, w, nil, &tv)
}

func newRawEpoll() (poller, error) {
	return nil, errors.Join(ErrNoRaw, errors.New("epoll is Linux only"))
}

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
