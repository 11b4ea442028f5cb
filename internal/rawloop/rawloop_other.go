//go:build unix && !linux

package rawloop

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux/timeout"
)

// pollRDHUP is 0: POLLRDHUP is Linux only.
const pollRDHUP = 0

// call makes poll(2), whose timeout is in milliseconds: the raw loop here
// is the portable one, while package mux/poll uses ppoll where it can.
func (p *Poll) call(d time.Duration) (int, error) {
	return unix.Poll(p.pfds, timeout.Millis(d))
}

// call makes select(2) with a microsecond timeval, rounded up.
func (s *Select) call(w *unix.FdSet, d time.Duration) (int, error) {
	if d < 0 {
		return unix.Select(s.nfd, &s.r, w, nil, nil)
	}
	us := (d + time.Microsecond - 1) / time.Microsecond
	tv := unix.NsecToTimeval(int64(us * time.Microsecond))
	return unix.Select(s.nfd, &s.r, w, nil, &tv)
}
