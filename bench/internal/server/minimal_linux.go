package server

import (
	"fmt"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
	"golang.org/x/sys/unix"
)

// The minimal loop, twice: over mux/epoll and over raw epoll_wait and
// epoll_ctl. Both accept, then on each readiness read once and write back
// what was read; only when a write falls short do they wait for Writable
// (and stop reading) until the rest is written. They share all but the
// Wait and the registrations, so the gap between them is the
// Multiplexer's.

// next is what the minimal loop does with a connection after serving it.
type next uint8

const (
	stay    next = iota // keep the interest
	toWrite             // output is queued: wait for Writable alone
	toRead              // the output is written: wait for Readable again
	drop                // the connection is over: remove and close it
)

// echo serves the connections of a minimal loop.
type echo struct {
	buf []byte   // what one read returns, shared by every connection
	out [][]byte // by descriptor: bytes read and not yet written back
}

func newEcho() *echo { return &echo{buf: make([]byte, 64<<10)} }

// again reports whether err means the call would have blocked.
func again(err error) bool { return err == unix.EAGAIN || err == unix.EINTR }

// failed reports whether a write failed: a short write returns no error.
func failed(err error) bool { return err != nil && !again(err) }

// serve reads once from fd and echoes what it read, or, while output is
// queued, writes that instead.
func (e *echo) serve(fd int) next {
	if fd < len(e.out) && len(e.out[fd]) > 0 {
		return e.flush(fd)
	}
	n, err := unix.Read(fd, e.buf)
	if n <= 0 {
		if again(err) {
			return stay
		}
		return drop // end of stream or a failure
	}
	w, err := unix.Write(fd, e.buf[:n])
	if w == n {
		return stay
	}
	if failed(err) {
		return drop
	}
	w = max(w, 0)
	for fd >= len(e.out) {
		e.out = append(e.out, nil)
	}
	e.out[fd] = append(e.out[fd][:0], e.buf[w:n]...)
	return toWrite
}

// flush writes the output queued for fd.
func (e *echo) flush(fd int) next {
	out := e.out[fd]
	w, err := unix.Write(fd, out)
	if w == len(out) {
		e.out[fd] = out[:0]
		return toRead
	}
	if failed(err) {
		return drop
	}
	e.out[fd] = out[:copy(out, out[max(w, 0):])]
	return stay
}

// forget drops what was queued for fd, a connection that is over.
func (e *echo) forget(fd int) {
	if fd < len(e.out) {
		e.out[fd] = e.out[fd][:0]
	}
}

// accept accepts every connection waiting on lfd, calling add for each.
func accept(lfd int, add func(fd int) error) error {
	for {
		fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			if again(err) || err == unix.ECONNABORTED {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		if err := add(fd); err != nil {
			unix.Close(fd)
			return err
		}
	}
}

// poller is what the minimal loop needs of epoll besides waiting.
type poller interface {
	add(fd int) error                 // watch a new connection for Readable
	want(fd int, writable bool) error // wait for Writable alone, or Readable alone
	remove(fd int) error
}

// step serves the descriptor an event reported: it accepts on the
// listener lfd, and serves a connection.
func (e *echo) step(p poller, fd, lfd int) error {
	if fd == lfd {
		return accept(lfd, p.add)
	}
	switch e.serve(fd) {
	case toWrite:
		return p.want(fd, true)
	case toRead:
		return p.want(fd, false)
	case drop:
		e.forget(fd)
		err := p.remove(fd)
		unix.Close(fd)
		return err
	}
	return nil
}

// muxPoller is a Multiplexer as the minimal loop's poller.
type muxPoller struct{ m mux.Multiplexer }

func (p muxPoller) add(fd int) error    { return p.m.Add(fd, mux.Readable) }
func (p muxPoller) remove(fd int) error { return p.m.Remove(fd) }
func (p muxPoller) want(fd int, writable bool) error {
	if writable {
		return p.m.Modify(fd, mux.Writable)
	}
	return p.m.Modify(fd, mux.Readable)
}

func serveMux(addr string, ready func()) error {
	m, err := epoll.New()
	if err != nil {
		return err
	}
	lfd, err := loop.OS().Listen(addr)
	if err != nil {
		return err
	}
	if err := m.Add(lfd, mux.Readable); err != nil {
		return err
	}
	p, e := muxPoller{m}, newEcho()
	events := make([]mux.Event, 256)
	ready()
	for {
		n, err := m.Wait(events, -1)
		if err != nil {
			return err
		}
		for _, ev := range events[:n] {
			if err := e.step(p, ev.FD, lfd); err != nil {
				return err
			}
		}
	}
}

// rawPoller is an epoll instance as the minimal loop's poller. It asks
// for what mux/epoll asks for: Readable is EPOLLIN|EPOLLRDHUP.
type rawPoller struct{ ep int }

func (p rawPoller) ctl(op, fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(p.ep, op, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

func (p rawPoller) add(fd int) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLIN|unix.EPOLLRDHUP)
}
func (p rawPoller) remove(fd int) error { return p.ctl(unix.EPOLL_CTL_DEL, fd, 0) }
func (p rawPoller) want(fd int, writable bool) error {
	if writable {
		return p.ctl(unix.EPOLL_CTL_MOD, fd, unix.EPOLLOUT)
	}
	return p.ctl(unix.EPOLL_CTL_MOD, fd, unix.EPOLLIN|unix.EPOLLRDHUP)
}

func serveRaw(addr string, ready func()) error {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	lfd, err := loop.OS().Listen(addr)
	if err != nil {
		return err
	}
	p, e := rawPoller{ep}, newEcho()
	if err := p.ctl(unix.EPOLL_CTL_ADD, lfd, unix.EPOLLIN); err != nil {
		return err
	}
	events := make([]unix.EpollEvent, 256)
	ready()
	for {
		n, err := unix.EpollWait(ep, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:n] {
			if err := e.step(p, int(ev.Fd), lfd); err != nil {
				return err
			}
		}
	}
}
