//go:build unix

package conformance

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// OS returns a [Harness] for a backend that watches the operating system's
// descriptors: newMux makes a fresh [mux.Multiplexer], descriptors are
// socketpairs, pipes and a temporary file, and time is the real clock. It
// exists on Unix systems only.
func OS(newMux func() (mux.Multiplexer, error)) Harness {
	return Harness{New: newMux, FDs: osFDs{}}
}

// osFDs implements FDs with real descriptors.
type osFDs struct{}

// systemFDs is what a Harness without FDs drives: the OS's descriptors.
var systemFDs FDs = osFDs{}

// prepare makes fd non-blocking and close-on-exec: portable where
// SOCK_NONBLOCK and SOCK_CLOEXEC are not.
func prepare(fds ...int) error {
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			return err
		}
		unix.CloseOnExec(fd)
	}
	return nil
}

func (osFDs) Pair() (int, int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("socketpair: %w", err)
	}
	if err := prepare(fds[0], fds[1]); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return -1, -1, err
	}
	return fds[0], fds[1], nil
}

func (osFDs) Pipe() (int, int, error) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return -1, -1, fmt.Errorf("pipe: %w", err)
	}
	if err := prepare(p[0], p[1]); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return -1, -1, err
	}
	return p[0], p[1], nil
}

func (osFDs) File() (int, error) {
	f, err := os.CreateTemp("", "muxkit-conformance-")
	if err != nil {
		return -1, err
	}
	defer f.Close()
	defer os.Remove(f.Name())
	fd, err := unix.Open(f.Name(), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", f.Name(), err)
	}
	return fd, nil
}

func (osFDs) Read(fd int, p []byte) (int, error) {
	n, err := unix.Read(fd, p)
	return max(n, 0), err
}

func (osFDs) Write(fd int, p []byte) (int, error) {
	n, err := unix.Write(fd, p)
	return max(n, 0), err
}

func (osFDs) ShutdownWrite(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }

func (osFDs) Urgent(fd int) error {
	err := unix.Sendto(fd, []byte{'!'}, unix.MSG_OOB, nil)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("MSG_OOB on a unix socket: %w (%w)", errors.ErrUnsupported, err)
	}
	return err
}

func (osFDs) Close(fd int) error { return unix.Close(fd) }

func (osFDs) CloseOnExec(fd int) (bool, error) {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return false, err
	}
	return flags&unix.FD_CLOEXEC != 0, nil
}

func (osFDs) Descriptors() (map[int]string, error) {
	dir := "/dev/fd"
	if runtime.GOOS == "linux" {
		dir = "/proc/self/fd"
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("listing open descriptors: %w (%w)", errors.ErrUnsupported, err)
	}
	self := int(d.Fd())
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	open := make(map[int]string, len(names))
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd == self {
			continue
		}
		what, err := os.Readlink(dir + "/" + name)
		if err != nil {
			what = "?"
		}
		open[fd] = what
	}
	return open, nil
}
