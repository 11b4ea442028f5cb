package fake

import (
	"strconv"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// backlogMax is the listen(2) backlog: connections beyond it are refused.
const backlogMax = 128

// firstPort is the first ephemeral port given to a connecting socket's
// local address.
const firstPort = 49152

// Socket returns a new, unconnected TCP socket, like socket(2). Until
// Connect it reads ENOTCONN, writes EPIPE and polls
// Readable|Writable|Hangup, as a fresh TCP socket does on Linux.
func (k *Kernel) Socket() (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	fd, err := k.socket()
	k.record(opSocket, fd, 0, 0, err)
	return fd, err
}

func (k *Kernel) socket() (int, error) {
	f := &file{kind: kindStream, state: sockFresh, tcp: true, fd: -1}
	f.rx = k.newBuffer(f)
	fd, err := k.alloc(f)
	if err == nil {
		k.changed()
	}
	return fd, err
}

// Listen returns a TCP socket listening on the virtual address addr, any
// string, like socket, bind and listen together. It fails with
// syscall.EADDRINUSE if something already listens there. The listener is
// Readable while connections wait to be accepted.
func (k *Kernel) Listen(addr string) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	fd, err := k.listen(addr)
	k.recordAddr(opListen, fd, addr, 0, err)
	return fd, err
}

func (k *Kernel) listen(addr string) (int, error) {
	if _, ok := k.listeners[addr]; ok {
		return -1, syscall.EADDRINUSE
	}
	l := &file{kind: kindListener, addr: addr}
	fd, err := k.alloc(l)
	if err == nil {
		k.listeners[addr] = l
		k.changed()
	}
	return fd, err
}

// Connect starts connecting the socket fd (from Socket) to the virtual
// address addr and returns syscall.EINPROGRESS, like a non-blocking
// connect(2). After Config.Latency of virtual time the connection is made
// and fd becomes Writable with SockErr nil — or, if nothing listens on
// addr then (or the Refuse fault fires), it fails: fd becomes
// Readable|Writable|ReadHangup|Hangup|Error, SockErr (or the first Read or
// Write) returns syscall.ECONNREFUSED, and later reads return end of file
// and writes EPIPE. A second Connect while one is in progress returns
// syscall.EALREADY, and one on a connected socket syscall.EISCONN.
func (k *Kernel) Connect(fd int, addr string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	err := k.connect(fd, addr)
	k.recordAddr(opConnect, fd, addr, 0, err)
	return err
}

func (k *Kernel) connect(fd int, addr string) error {
	f := k.lookup(fd)
	switch {
	case f == nil:
		return syscall.EBADF
	case f.kind != kindStream || !f.tcp:
		return syscall.ENOTSOCK
	case f.state == sockConnecting:
		return syscall.EALREADY
	case f.state != sockFresh:
		return syscall.EISCONN
	}
	f.state = sockConnecting
	k.touch(f)
	k.port++
	f.local = "client:" + strconv.Itoa(k.port)
	f.remote = addr
	k.schedule(satAdd(k.now, k.latency), func() { k.complete(f, addr) }, nil)
	k.changed()
	return syscall.EINPROGRESS
}

// complete ends the connect of f to addr. k.mu is held.
func (k *Kernel) complete(f *file, addr string) {
	if f.state != sockConnecting {
		return
	}
	l := k.listeners[addr]
	k.wake(f, 0)
	if l == nil || len(l.backlog) >= backlogMax || k.fire(faultRefuse, f, nil) {
		f.state = sockClosed
		f.err = syscall.ECONNREFUSED
		k.record(opRefused, f.fd, 0, 0, syscall.ECONNREFUSED)
		k.changed()
		return
	}
	s := &file{kind: kindStream, state: sockConnected, tcp: true, fd: -1, local: addr, remote: f.local}
	s.rx = k.newBuffer(s)
	f.state = sockConnected
	f.tx, s.tx = s.rx, f.rx
	f.rx.src, s.rx.src = s, f
	f.peer, s.peer = s, f
	for _, b := range [2]*buffer{f.rx, s.rx} {
		b.delay, b.jitter = k.delay, k.jitter
	}
	l.backlog = append(l.backlog, s)
	k.wake(l, mux.Readable)
	k.record(opConnected, f.fd, 0, l.fd, nil)
	k.changed()
}

// Accept returns the next connection made to the listener fd, like
// accept4(2) on a non-blocking socket, or syscall.EAGAIN if none is
// waiting.
func (k *Kernel) Accept(fd int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	return k.acceptLocked(fd)
}

func (k *Kernel) acceptLocked(fd int) (int, error) {
	f := k.lookup(fd)
	nfd, err := -1, error(nil)
	switch {
	case f == nil:
		err = syscall.EBADF
	case f.kind != kindListener:
		err = syscall.EINVAL
	case len(f.backlog) == 0:
		err = syscall.EAGAIN
	default:
		s := f.backlog[0]
		if nfd, err = k.alloc(s); err == nil {
			copy(f.backlog, f.backlog[1:])
			f.backlog[len(f.backlog)-1] = nil
			f.backlog = f.backlog[:len(f.backlog)-1]
			k.touch(f)
			k.changed()
		}
	}
	k.record(opAccept, fd, 0, nfd, err)
	return nfd, err
}

// Dial returns a TCP socket whose connect to addr has been started, like
// Socket followed by Connect: completion is seen as the socket becoming
// Writable, and its outcome through SockErr. If the socket cannot be made
// or the connect fails at once, Dial returns an error and no descriptor.
func (k *Kernel) Dial(addr string) (int, error) {
	fd, err := k.Socket()
	if err != nil {
		return -1, err
	}
	if err := k.Connect(fd, addr); err != syscall.EINPROGRESS {
		k.Close(fd)
		return -1, err
	}
	return fd, nil
}

// SetDelay sets how long bytes written on the TCP socket fd from now on
// take to reach the other end: delay, plus up to jitter drawn from the
// seed for each write. What was written before keeps its own delay, and
// bytes arrive in order whatever their delays, so a server that writes a
// response's header, calls SetDelay(fd, 5*time.Millisecond, 0) and
// writes its body delivers the header at once and the body 5ms later.
func (k *Kernel) SetDelay(fd int, delay, jitter time.Duration) error {
	return k.call(opSetDelay, fd, int64(delay), func(f *file) error {
		switch {
		case f.kind != kindStream || !f.tcp:
			return syscall.ENOTSOCK
		case f.state != sockConnected:
			return syscall.ENOTCONN
		}
		f.tx.delay, f.tx.jitter = max(delay, 0), max(jitter, 0)
		return nil
	})
}

// SetLatency sets how long, in virtual time, the connects started from
// now on stay in progress before they complete or fail, in place of
// Config.Latency; with d zero or negative they complete at the next Wait
// or Advance. Connects in progress keep their own. It is how a test
// makes one connect slow, and how package record/replay completes a
// replayed connect when the recorded one completed.
func (k *Kernel) SetLatency(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.latency = max(d, 0)
	k.record(opLatency, -1, int64(d), 0, nil)
}

// SetReceiveBuffer sets how many bytes the stream socket fd holds on
// their way to it — written by the other end and not yet read — in place
// of Config.Buffer, like SO_RCVBUF without its doubling and minimum: the
// other end's writes are short, and return EAGAIN, once that many are
// unread. n may be below what fd holds now; then nothing more fits, and
// the other end is not Writable, until fd has read below n. It is how a
// test makes a slow reader, and how package record/replay gives a
// replayed write the room the recorded one had.
func (k *Kernel) SetReceiveBuffer(fd, n int) error {
	return k.call(opRcvBuf, fd, int64(n), func(f *file) error {
		switch {
		case f.kind != kindStream:
			return syscall.ENOTSOCK
		case n < 0:
			return syscall.EINVAL
		}
		f.rx.cap = n
		k.touchBuf(f.rx) // the writer's room changed
		k.freed(f.rx, false)
		k.changed()
		return nil
	})
}

// send puts a on its way through b: at once when b has no delay and
// nothing is on the way, else at its instant, never before what was sent
// earlier. k.mu is held.
func (k *Kernel) send(b *buffer, a arrival) {
	if b.delay == 0 && b.jitter == 0 && len(b.flight) == 0 {
		k.arrive(b, a)
		return
	}
	at := satAdd(k.now, b.delay)
	if b.jitter > 0 {
		fd := -1
		if b.src != nil {
			fd = b.src.fd
		}
		at = satAdd(at, time.Duration(k.chooseN(ChooseDelay, 0, fd, int64(b.jitter)+1)))
	}
	if n := len(b.flight); n > 0 && b.flight[n-1].at > at {
		at = b.flight[n-1].at
	}
	a.at = at
	b.flight = append(b.flight, a)
	k.schedule(at, func() { k.deliver(b) }, nil)
}

// deliver hands over what on b has reached its instant. k.mu is held.
func (k *Kernel) deliver(b *buffer) {
	for len(b.flight) > 0 && b.flight[0].at <= k.now {
		a := b.flight[0]
		b.flight = b.flight[1:]
		k.arrive(b, a)
	}
	if len(b.flight) == 0 {
		b.flight = nil
	}
}

// arrive is a reaching b's reader. k.mu is held; the caller counts the
// change (a call that sent it, or the timer that delivered it).
func (k *Kernel) arrive(b *buffer, a arrival) {
	d := b.dst
	if d.watched > 0 || b.src != nil && b.src.watched > 0 {
		k.touchBuf(b)
		switch {
		case a.fin:
			k.wake(d, 0)
		case a.n > 0:
			k.wake(d, mux.Readable|mux.Priority) // Linux's key for data holds both
		}
	}
	if a.n > 0 {
		if d.tcp && d.state == sockConnected && d.rdShut && d.wrShut {
			// Data reaching a socket that shut its reading side and sent
			// its FIN: Linux resets the connection (as RFC 1122 asks).
			b.data = b.data[:b.off+b.arrived]
			b.flight = nil
			k.gotReset(d)
			k.send(d.tx, arrival{rst: true})
			return
		}
		b.arrived += a.n
	}
	if a.fin {
		b.fin = true
	}
	if a.rst {
		k.gotReset(d)
	}
}
