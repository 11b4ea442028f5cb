package fake

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Addr is the address of a fake socket: as written to Listen, Serve or
// Connect, or, for the local end of a connecting socket, the name the
// kernel gave it ("client:49152").
type Addr string

// Network returns "fake".
func (a Addr) Network() string { return "fake" }

func (a Addr) String() string { return string(a) }

// errDeadline is the error of a call whose deadline passed.
var errDeadline = os.ErrDeadlineExceeded

// Conn is a net.Conn over a connected socket of a Kernel, so that ordinary
// Go code — bufio, net/http, a protocol library — can be a peer of the
// code under test. Read and Write block, as on a blocking socket, until
// they can proceed, their deadline passes (os.ErrDeadlineExceeded) or the
// Conn is closed (net.ErrClosed); Read returns io.EOF at end of stream.
// Deadlines are instants of the kernel's clock: a deadline d from now
// (time.Now().Add(d), as code usually sets it) passes when the kernel's
// clock has moved on by d.
//
// How the goroutines that call a Conn are scheduled is Config.Settle's
// choice: with it, they run one at a time and only while a Wait or
// Advance is in progress, deterministically; without it, whenever the Go
// scheduler runs them. Faults never fire on a Conn's descriptor.
type Conn struct {
	k  *Kernel
	fd int
	f  *file

	// The fields below are guarded by k.mu.
	closed   bool
	rdl, wdl deadline
}

// Conn returns a net.Conn over the connected stream socket fd (from
// Accept, Dial or Pair). The Conn owns fd: its Close closes it.
func (k *Kernel) Conn(fd int) (*Conn, error) {
	var c *Conn
	err := k.call(opNet, fd, 0, func(f *file) error {
		if f.kind != kindStream {
			return syscall.ENOTSOCK
		}
		c = k.adapt(fd)
		return nil
	})
	return c, err
}

// adapt makes a Conn of fd. k.mu is held.
func (k *Kernel) adapt(fd int) *Conn {
	f := k.files[fd]
	f.spared = true
	k.peers.adapters++
	return &Conn{k: k, fd: fd, f: f}
}

// FD returns the descriptor the Conn reads and writes, as it appears in
// the kernel's trace.
func (c *Conn) FD() int { return c.fd }

// check returns why a call on c cannot go on: c is closed, its descriptor
// was closed under it, or dl passed; or nil. k.mu is held.
func (c *Conn) check(dl *deadline) error {
	switch {
	case c.closed:
		return net.ErrClosed
	case c.k.lookup(c.fd) != c.f:
		return syscall.EBADF
	case dl.passed(c.k.now):
		return errDeadline
	}
	return nil
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "fake", Source: Addr(c.f.local), Addr: Addr(c.f.remote), Err: err}
}

// Read reads what has arrived, blocking until something has: bytes, the
// end of the stream (io.EOF) or an error.
func (c *Conn) Read(p []byte) (int, error) {
	k := c.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	for {
		if err := c.check(&c.rdl); err != nil {
			return 0, c.opError("read", err)
		}
		if len(p) == 0 || k.readiness(c.f)&mux.Readable != 0 {
			n, err := k.readLocked(c.fd, p)
			switch {
			case err == syscall.EAGAIN: // readiness forced by SetReady: wait for the real thing
			case err != nil:
				return n, c.opError("read", err)
			case n == 0 && len(p) > 0:
				return 0, io.EOF
			default:
				return n, nil
			}
		}
		if err := k.park(&request{f: c.f, fd: c.fd, op: reqRead, dl: &c.rdl}); err != nil {
			return 0, c.opError("read", err)
		}
	}
}

// Write writes all of p, blocking while the connection's buffer is full.
func (c *Conn) Write(p []byte) (int, error) {
	k := c.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	n := 0
	for {
		if err := c.check(&c.wdl); err != nil {
			return n, c.opError("write", err)
		}
		if k.readiness(c.f)&mux.Writable != 0 {
			m, err := k.writeLocked(c.fd, p[n:])
			n += m
			switch {
			case err == nil && n == len(p):
				return n, nil
			case err == nil:
				continue
			case err != syscall.EAGAIN:
				return n, c.opError("write", err)
			}
		}
		if err := k.park(&request{f: c.f, fd: c.fd, op: reqWrite, dl: &c.wdl}); err != nil {
			return n, c.opError("write", err)
		}
	}
}

// Close closes the connection's descriptor. Calls blocked in Read or
// Write return net.ErrClosed.
func (c *Conn) Close() error {
	k := c.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	if c.closed {
		return c.opError("close", net.ErrClosed)
	}
	c.closed = true
	k.peers.adapters--
	k.changed()
	if k.lookup(c.fd) != c.f {
		return c.opError("close", syscall.EBADF)
	}
	if err := k.closeLocked(c.fd); err != nil {
		return c.opError("close", err)
	}
	return nil
}

// CloseWrite shuts down the writing side of the connection, as
// net.TCPConn's does: the other end reads end of file.
func (c *Conn) CloseWrite() error {
	k := c.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	if err := c.check(nil); err != nil {
		return c.opError("close", err)
	}
	err := k.shutdown(c.fd, ShutWrite)
	if err == nil {
		k.changed()
	}
	k.record(opShutdown, c.fd, ShutWrite, 0, err)
	if err != nil {
		return c.opError("close", err)
	}
	return nil
}

// LocalAddr returns the address of this end.
func (c *Conn) LocalAddr() net.Addr {
	c.k.mu.Lock()
	defer c.k.mu.Unlock()
	return Addr(c.f.local)
}

// RemoteAddr returns the address of the other end.
func (c *Conn) RemoteAddr() net.Addr {
	c.k.mu.Lock()
	defer c.k.mu.Unlock()
	return Addr(c.f.remote)
}

// SetDeadline sets both the read and the write deadline.
func (c *Conn) SetDeadline(t time.Time) error { return c.setDeadline(t, &c.rdl, &c.wdl) }

// SetReadDeadline sets the deadline of Read; the zero time means none.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.setDeadline(t, &c.rdl) }

// SetWriteDeadline sets the deadline of Write; the zero time means none.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.setDeadline(t, &c.wdl) }

// setDeadline sets dls to t, counted from time.Now on the kernel's clock.
func (c *Conn) setDeadline(t time.Time, dls ...*deadline) error {
	k := c.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if c.closed {
		return c.opError("set deadline", net.ErrClosed)
	}
	var d deadline
	if !t.IsZero() {
		d = deadline{at: satAdd(k.now, max(time.Until(t), 0)), set: true}
		if d.at > k.now {
			k.schedule(d.at, k.changed, nil) // wakes the calls it ends
		}
	}
	for _, dl := range dls {
		*dl = d
	}
	k.changed()
	return nil
}

// Listener is a net.Listener over a listening socket of a Kernel: Accept
// blocks until a connection is made and returns it as a *Conn. Its
// goroutines are scheduled as a Conn's are.
type Listener struct {
	k  *Kernel
	fd int
	f  *file

	closed bool // guarded by k.mu
}

// Listener returns a net.Listener over the listening socket fd (from
// Listen). The Listener owns fd: its Close closes it.
//
//	lfd, _ := k.Listen("web:80")
//	ln, _ := k.Listener(lfd)
//	go http.Serve(ln, handler)
func (k *Kernel) Listener(fd int) (*Listener, error) {
	var l *Listener
	err := k.call(opNet, fd, 0, func(f *file) error {
		if f.kind != kindListener {
			return syscall.EINVAL
		}
		f.spared = true
		k.peers.adapters++
		l = &Listener{k: k, fd: fd, f: f}
		return nil
	})
	return l, err
}

// Accept waits for the next connection and returns it as a *Conn.
func (l *Listener) Accept() (net.Conn, error) {
	k := l.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	for {
		var err error
		switch {
		case l.closed:
			err = net.ErrClosed
		case k.lookup(l.fd) != l.f:
			err = syscall.EBADF
		case len(l.f.backlog) > 0:
			var nfd int
			if nfd, err = k.acceptLocked(l.fd); err == nil {
				return k.adapt(nfd), nil
			}
		}
		if err != nil {
			return nil, &net.OpError{Op: "accept", Net: "fake", Addr: Addr(l.f.addr), Err: err}
		}
		if err := k.park(&request{f: l.f, fd: l.fd, op: reqAccept}); err != nil {
			return nil, err
		}
	}
}

// Close closes the listening socket. A blocked Accept returns
// net.ErrClosed; connections not yet accepted are reset.
func (l *Listener) Close() error {
	k := l.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	if l.closed {
		return &net.OpError{Op: "close", Net: "fake", Addr: Addr(l.f.addr), Err: net.ErrClosed}
	}
	l.closed = true
	k.peers.adapters--
	k.changed()
	if k.lookup(l.fd) != l.f {
		return nil
	}
	return k.closeLocked(l.fd)
}

// Addr returns the address the Listener listens on.
func (l *Listener) Addr() net.Addr { return Addr(l.f.addr) }
