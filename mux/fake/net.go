package fake

import (
	"golang.org/x/sys/unix"
)

// backlogMax is the listen(2) backlog: connections beyond it are refused.
const backlogMax = 128

// Socket returns a new, unconnected stream socket, like socket(2). Until
// Connect it reads ENOTCONN, writes EPIPE and polls Writable|Hangup, as a
// fresh TCP socket does on Linux.
func (k *Kernel) Socket() (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	fd, err := k.alloc(k.newSocket())
	if err == nil {
		k.changed()
	}
	k.record(opSocket, fd, 0, 0, err)
	return fd, err
}

func (k *Kernel) newSocket() *file {
	return &file{kind: kindStream, state: sockFresh, rx: newBuffer(k.bufSize), tx: newBuffer(k.bufSize), fd: -1}
}

// Listen returns a socket listening on the virtual address addr, any
// string, like socket, bind and listen together. It fails with
// unix.EADDRINUSE if something already listens there. The listener is
// Readable while connections wait to be accepted.
func (k *Kernel) Listen(addr string) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	fd, err := -1, error(nil)
	if _, ok := k.listeners[addr]; ok {
		err = unix.EADDRINUSE
	} else {
		l := &file{kind: kindListener, addr: addr}
		if fd, err = k.alloc(l); err == nil {
			k.listeners[addr] = l
			k.changed()
		}
	}
	k.recordAddr(opListen, fd, addr, 0, err)
	return fd, err
}

// Connect starts connecting the socket fd (from Socket) to the virtual
// address addr and returns unix.EINPROGRESS, like a non-blocking
// connect(2). After Config.Latency of virtual time the connection is made
// and fd becomes Writable with SockErr 0 — or, if nothing listens on addr
// then (or the Refuse fault fires), it fails: fd becomes
// Readable|Writable|ReadHangup|Hangup|Error and SockErr returns
// unix.ECONNREFUSED. A second Connect while one is in progress returns
// unix.EALREADY, and one on a connected socket unix.EISCONN.
func (k *Kernel) Connect(fd int, addr string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	f := k.lookup(fd)
	var err error
	switch {
	case f == nil:
		err = unix.EBADF
	case f.kind != kindStream:
		err = unix.ENOTSOCK
	case f.state == sockConnecting:
		err = unix.EALREADY
	case f.state != sockFresh:
		err = unix.EISCONN
	default:
		f.state = sockConnecting
		err = unix.EINPROGRESS
		at, _ := clampAdd(k.now, k.latency)
		k.schedule(at, func() { k.complete(f, addr) }, nil)
		k.changed()
	}
	k.recordAddr(opConnect, fd, addr, 0, err)
	return err
}

// complete ends the connect of f to addr. k.mu is held.
func (k *Kernel) complete(f *file, addr string) {
	if f.state != sockConnecting {
		return
	}
	l := k.listeners[addr]
	refused := l == nil || len(l.backlog) >= backlogMax || k.fire(k.faults.Refuse, faultRefuse, f.fd)
	if refused {
		f.state = sockFailed
		f.err = unix.ECONNREFUSED
		f.rx.rclosed, f.rx.wclosed = true, true
		f.tx.rclosed, f.tx.wclosed = true, true
		k.record(opRefused, f.fd, 0, 0, unix.ECONNREFUSED)
		return
	}
	s := &file{kind: kindStream, state: sockConnected, rx: f.tx, tx: f.rx, peer: f, fd: -1}
	f.peer = s
	f.state = sockConnected
	l.backlog = append(l.backlog, s)
	k.record(opConnected, f.fd, 0, l.fd, nil)
}

// Accept returns the next connection made to the listener fd, like
// accept4(2) on a non-blocking socket, or unix.EAGAIN if none is waiting.
func (k *Kernel) Accept(fd int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	f := k.lookup(fd)
	nfd, err := -1, error(nil)
	switch {
	case f == nil:
		err = unix.EBADF
	case f.kind != kindListener:
		err = unix.EINVAL
	case len(f.backlog) == 0:
		err = unix.EAGAIN
	default:
		s := f.backlog[0]
		if nfd, err = k.alloc(s); err == nil {
			copy(f.backlog, f.backlog[1:])
			f.backlog[len(f.backlog)-1] = nil
			f.backlog = f.backlog[:len(f.backlog)-1]
			k.changed()
		}
	}
	k.record(opAccept, fd, 0, nfd, err)
	return nfd, err
}
