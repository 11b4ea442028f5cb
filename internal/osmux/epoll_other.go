//go:build unix && !linux

package osmux

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// Only Linux has epoll. These stand in for epoll_linux.go so that the Core
// compiles here; Open of an Epoll Core fails with errors.ErrUnsupported,
// so that none of the rest is ever called.

type epollEvent struct{}

type epoller struct {
	epfd   int
	pwait2 bool
}

// epollModes is empty: there is no epoll here.
const epollModes mux.Events = 0

func epollInfo(*epoller) mux.Info {
	return mux.Info{Name: "epoll", Reports: mux.Readable | mux.Writable, Resolution: time.Millisecond}
}

func (*epoller) open(int) ([]int, error)                            { return nil, errors.ErrUnsupported }
func (*epoller) room(int) []epollEvent                              { return nil }
func (*epoller) ctl(int, mux.Events, mux.Events) (int, *epollEvent) { return 0, nil }
func (*epoller) collect([]mux.Event, int) int                       { return 0 }
func (*epoller) close() error                                       { return nil }
func epollWait(int, []epollEvent, int) (int, error)                 { return 0, unix.ENOSYS }
func epollCtl(int, int, int, *epollEvent) error                     { return unix.ENOSYS }
func epollCtlError(int, error) (error, error)                       { return nil, unix.ENOSYS }

// Millis does nothing: there is no epoll here.

// EpollPwait2 returns ENOSYS: there is no epoll here.
func EpollPwait2(int, []epollEvent, *unix.Timespec) (int, error) { return 0, unix.ENOSYS }

// Pwait2 reports false: there is no epoll here.
func Pwait2() bool { return false }
