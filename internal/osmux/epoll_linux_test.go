package osmux

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// TestEpollCollect checks the mapping of what the kernel reports, through the
// interest carried in each registration's data word: a hangup or error
// makes a descriptor Readable and Writable as asked (neither a read nor a
// write blocks), ReadHangup only with Readable, and the eventfd is never
// reported.
func TestEpollCollect(t *testing.T) {
	reg := func(fd int, interest mux.Events, got uint32) unix.EpollEvent {
		return unix.EpollEvent{Events: got, Fd: int32(fd), Pad: int32(interest)}
	}
	for _, tc := range []struct {
		name     string
		interest mux.Events
		got      uint32
		want     mux.Events
	}{
		{"data", mux.Readable, unix.EPOLLIN, mux.Readable},
		{"room", mux.Readable | mux.Writable, unix.EPOLLOUT, mux.Writable},
		{"peer shut writing", mux.Readable, unix.EPOLLIN | unix.EPOLLRDHUP, mux.Readable | mux.ReadHangup},
		{"peer shut writing, writer", mux.Writable, unix.EPOLLOUT | unix.EPOLLRDHUP, mux.Writable},
		{"pipe whose writer closed", mux.Readable, unix.EPOLLHUP, mux.Readable | mux.Hangup},
		{"pipe whose reader closed", mux.Writable, unix.EPOLLOUT | unix.EPOLLERR, mux.Writable | mux.Error},
		{"peer closed, Priority only", mux.Priority, unix.EPOLLHUP | unix.EPOLLRDHUP, mux.Hangup},
		{"urgent data", mux.Priority, unix.EPOLLPRI, mux.Priority},
		{"urgent data, reader", mux.Readable, unix.EPOLLPRI, 0},
	} {
		p := epoller{buf: []unix.EpollEvent{reg(0, 0, unix.EPOLLIN), reg(7, tc.interest, tc.got)}}
		events := make([]mux.Event, 2)
		n := p.collect(events, 2)
		var got mux.Events
		for _, ev := range events[:n] {
			if ev.FD != 7 {
				t.Errorf("%s: collect reported fd %d; want fd 7 only (never the eventfd)", tc.name, ev.FD)
			}
			got = ev.Events
		}
		if got != tc.want || (n == 0) != (tc.want == 0) {
			t.Errorf("%s: interest %v, kernel %#x: collect = %v; want %v", tc.name, tc.interest, tc.got, events[:n], tc.want)
		}
	}
}
