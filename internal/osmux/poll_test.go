//go:build unix

package osmux

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// TestPollToEvents checks the mapping of what poll returned, through the
// interest: POLLNVAL above all (a descriptor closed while added) is Error
// alone, never Readable|Writable, which would make a loop spin on it.
func TestPollToEvents(t *testing.T) {
	for _, tc := range []struct {
		interest mux.Events
		got      int16
		want     mux.Events
	}{
		{mux.Readable, unix.POLLIN, mux.Readable},
		{mux.Readable | mux.Writable, unix.POLLOUT, mux.Writable},
		{mux.Readable, unix.POLLNVAL, mux.Error},
		{mux.Readable | mux.Writable, unix.POLLNVAL, mux.Error},
		{mux.Readable, unix.POLLHUP, mux.Readable | mux.Hangup},
		{mux.Writable, unix.POLLHUP, mux.Writable | mux.Hangup},
		{mux.Priority, unix.POLLHUP, mux.Hangup},
		{mux.Readable, unix.POLLERR, mux.Readable | mux.Error},
		{mux.Writable, unix.POLLOUT | unix.POLLERR, mux.Writable | mux.Error},
		{mux.Priority, unix.POLLPRI, mux.Priority},
		{mux.Readable, unix.POLLPRI, 0},
	} {
		if got := pollToEvents(tc.got) & mux.Reportable(tc.interest); got != tc.want {
			t.Errorf("interest %v, poll returned %#x: %v; want %v", tc.interest, tc.got, got, tc.want)
		}
	}
	if pollRDHUP != 0 {
		if got := pollToEvents(unix.POLLIN|pollRDHUP) & mux.Reportable(mux.Readable); got != mux.Readable|mux.ReadHangup {
			t.Errorf("interest Readable, poll returned POLLIN|POLLRDHUP: %v; want Readable|ReadHangup", got)
		}
	}
}
