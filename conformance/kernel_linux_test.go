package conformance_test

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestKernelReportsUnasked checks, on real descriptors, what the contract
// says the kernel does (rule 3): poll(2) and epoll(7) report a hangup and a
// pending error whatever was asked for, and a peer's shutdown of its
// writing side (POLLRDHUP) only when asked.
func TestKernelReportsUnasked(t *testing.T) {
	const in, out, pri = unix.POLLIN, unix.POLLOUT, unix.POLLPRI
	for _, tc := range []struct {
		name   string
		make   func(t *testing.T) int // the descriptor watched
		asked  int16
		want   int16 // what poll reports
		absent int16 // what it must not report
	}{
		{"socket whose peer closed, asked POLLOUT", peerClosed, out, out | unix.POLLHUP, 0},
		{"socket whose peer closed, asked POLLPRI", peerClosed, pri, unix.POLLHUP, 0},
		{"pipe writer whose reader closed, asked POLLOUT", readerClosed, out, out | unix.POLLERR, 0},
		{"pipe writer whose reader closed, asked POLLPRI", readerClosed, pri, unix.POLLERR, 0},
		{"socket whose peer shut writing, asked POLLOUT", peerShut, out, out, unix.POLLRDHUP},
		{"socket whose peer shut writing, asked POLLPRI", peerShut, pri, 0, unix.POLLRDHUP},
		{"socket whose peer shut writing, asked POLLIN|POLLRDHUP", peerShut, in | unix.POLLRDHUP, in | unix.POLLRDHUP, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := tc.make(t)
			p := []unix.PollFd{{Fd: int32(fd), Events: tc.asked}}
			if _, err := unix.Poll(p, 0); err != nil {
				t.Fatalf("poll = %v", err)
			}
			if got := p[0].Revents; got&tc.want != tc.want || got&tc.absent != 0 {
				t.Errorf("poll revents = %#x; want %#x and not %#x", got, tc.want, tc.absent)
			}
			// epoll's bits for these conditions are poll's.
			ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(ep)
			ev := unix.EpollEvent{Events: uint32(uint16(tc.asked)), Fd: int32(fd)}
			if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
				t.Fatal(err)
			}
			evs := make([]unix.EpollEvent, 1)
			n, err := unix.EpollWait(ep, evs, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := uint32(0)
			if n == 1 {
				got = evs[0].Events
			}
			if want, absent := uint32(uint16(tc.want)), uint32(uint16(tc.absent)); got&want != want || got&absent != 0 {
				t.Errorf("epoll events = %#x; want %#x and not %#x", got, want, absent)
			}
		})
	}
}

func socketpair(t *testing.T) (int, int) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]) })
	return fds[0], fds[1]
}

func peerClosed(t *testing.T) int {
	a, b := socketpair(t)
	unix.Close(b)
	return a
}

func peerShut(t *testing.T) int {
	a, b := socketpair(t)
	t.Cleanup(func() { unix.Close(b) })
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	return a
}

func readerClosed(t *testing.T) int {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[1]) })
	unix.Close(p[0])
	return p[1]
}
