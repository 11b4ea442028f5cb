package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Kind is a class of system calls counted together, named by the
// tracepoints of its calls ("category/name" under the kernel's tracing
// directory).
type Kind struct {
	Name        string
	Tracepoints []string
}

// Kinds are the classes of system calls an event loop makes; All counts
// every call, whatever it is.
var Kinds = []Kind{
	All,
	{"epoll_wait", []string{"syscalls/sys_enter_epoll_wait", "syscalls/sys_enter_epoll_pwait", "syscalls/sys_enter_epoll_pwait2"}},
	{"epoll_ctl", []string{"syscalls/sys_enter_epoll_ctl"}},
	{"read", []string{"syscalls/sys_enter_read", "syscalls/sys_enter_readv", "syscalls/sys_enter_recvfrom", "syscalls/sys_enter_recvmsg"}},
	{"write", []string{"syscalls/sys_enter_write", "syscalls/sys_enter_writev", "syscalls/sys_enter_sendto", "syscalls/sys_enter_sendmsg"}},
	{"futex", []string{"syscalls/sys_enter_futex"}},
	{"sleep", []string{"syscalls/sys_enter_nanosleep", "syscalls/sys_enter_clock_nanosleep", "syscalls/sys_enter_sched_yield"}},
}

// All is the Kind of every system call.
var All = Kind{"all", []string{"raw_syscalls/sys_enter"}}

// A Counter counts the system calls of one process by Kind, from the
// moment CountSyscalls returns until Close.
//
// Counting enables the kernel's system-call tracepoints, which makes
// every system call on the machine a little dearer while a Counter is
// open: count in a pass of its own, not while timing.
type Counter struct {
	fds [][]int // by kind: one perf event per thread and tracepoint; nil if the kernel has none of them
}

// CountSyscalls starts counting the system calls of every thread of
// process pid, and of the threads they start (the events are inherited),
// by kind. A kind none of whose tracepoints exist on this kernel reads -1.
func CountSyscalls(pid int, kinds []Kind) (*Counter, error) {
	ids := make([][]uint64, len(kinds))
	var missing error
	some := false
	for i, k := range kinds {
		for _, tp := range k.Tracepoints {
			id, err := tracepoint(tp)
			if err != nil {
				missing = err
				continue
			}
			ids[i] = append(ids[i], id)
			some = true
		}
	}
	if !some {
		if missing == nil {
			return nil, errors.New("count system calls: no tracepoint to count")
		}
		return nil, fmt.Errorf("count system calls: %w", missing)
	}
	// A thread started between listing the threads and opening the events
	// of the thread that started it would be missed, and one started after
	// is counted through its parent's events: so list again afterwards,
	// and start over if the list changed.
	for range 5 {
		tids, err := threads(pid)
		if err != nil {
			return nil, fmt.Errorf("count system calls of %d: %w", pid, err)
		}
		c, err := open(tids, ids)
		if err != nil {
			return nil, fmt.Errorf("count system calls of %d: %w", pid, err)
		}
		after, err := threads(pid)
		if err == nil && slices.Equal(tids, after) {
			return c, nil
		}
		c.Close()
	}
	return nil, fmt.Errorf("count system calls of %d: its threads kept changing", pid)
}

// open opens one counting event per thread and tracepoint id.
func open(tids []int, ids [][]uint64) (*Counter, error) {
	c := &Counter{fds: make([][]int, len(ids))}
	for i, kind := range ids {
		for _, id := range kind {
			for _, tid := range tids {
				attr := unix.PerfEventAttr{
					Type:   unix.PERF_TYPE_TRACEPOINT,
					Config: id,
					Bits:   unix.PerfBitInherit,
				}
				attr.Size = uint32(unsafe.Sizeof(attr))
				fd, err := unix.PerfEventOpen(&attr, tid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
				if errors.Is(err, unix.ESRCH) {
					continue // the thread exited; the list check catches it
				}
				if err != nil {
					c.Close()
					return nil, fmt.Errorf("perf_event_open: %w", err)
				}
				c.fds[i] = append(c.fds[i], fd)
			}
		}
	}
	return c, nil
}

// Read returns the calls counted so far, by kind, in the order of the
// kinds given to CountSyscalls; -1 for a kind it cannot count.
func (c *Counter) Read() ([]int64, error) {
	n := make([]int64, len(c.fds))
	var b [8]byte
	for i, fds := range c.fds {
		if fds == nil {
			n[i] = -1
			continue
		}
		for _, fd := range fds {
			if _, err := unix.Read(fd, b[:]); err != nil {
				return nil, fmt.Errorf("read a perf event: %w", err)
			}
			n[i] += int64(binary.NativeEndian.Uint64(b[:]))
		}
	}
	return n, nil
}

// Close stops counting.
func (c *Counter) Close() {
	for _, fds := range c.fds {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	c.fds = nil
}
