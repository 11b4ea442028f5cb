package fake_test

import (
	"bytes"
	"fmt"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// echoConn is one connection of the echo loop.
type echoConn struct {
	fd         int
	client     bool
	connecting bool
	out        []byte // to send
	in         []byte // received (clients)
	shut       bool   // client: write side shut down
	eof        bool   // server: peer's EOF seen
}

// echoResult is what runEcho saw.
type echoResult struct {
	ok, failed int // clients that got their bytes back, or gave up
	errs       []string
}

// runEcho is a small, correct event loop over a fake kernel: a server
// echoes what each of n clients sends, and each client checks it gets
// its payload back. It tolerates every fault the fake injects: partial
// I/O, EAGAIN after readiness, spurious and split reports, truncated
// batches, resets and refusals (counted as failed clients).
func runEcho(k *fake.Kernel, clients, size int) echoResult {
	return runEchoWith(k, clients, size, nil)
}

// runEchoWith is runEcho, calling onClient, if not nil, with each client's
// descriptor as soon as it is connecting.
func runEchoWith(k *fake.Kernel, clients, size int, onClient func(fd int)) echoResult {
	var res echoResult
	m, err := k.NewMux()
	if err != nil {
		res.errs = append(res.errs, fmt.Sprint("NewMux: ", err))
		return res
	}
	defer m.Close()
	lfd, err := k.Listen("echo:7")
	if err != nil {
		res.errs = append(res.errs, fmt.Sprint("Listen: ", err))
		return res
	}
	defer k.Close(lfd)
	if err := m.Add(lfd, mux.Readable); err != nil {
		res.errs = append(res.errs, fmt.Sprint("Add listener: ", err))
		return res
	}
	conns := map[int]*echoConn{}
	drop := func(c *echoConn, why string) {
		m.Remove(c.fd)
		k.Close(c.fd)
		delete(conns, c.fd)
		if c.client {
			res.failed++
			res.errs = append(res.errs, why)
		}
	}
	// interest returns what c waits for, or 0 when it is finished.
	interest := func(c *echoConn) mux.Events {
		switch {
		case c.connecting:
			return mux.Writable
		case c.client && (len(c.out) > 0 || !c.shut):
			return mux.Readable | mux.Writable
		case c.client:
			return mux.Readable
		case len(c.out) > 0:
			return mux.Readable | mux.Writable
		case c.eof:
			return 0
		}
		return mux.Readable
	}
	for i := range clients {
		fd, err := k.Socket()
		if err != nil {
			res.errs = append(res.errs, fmt.Sprint("Socket: ", err))
			return res
		}
		if err := k.Connect(fd, "echo:7"); err != syscall.EINPROGRESS {
			res.errs = append(res.errs, fmt.Sprint("Connect: ", err))
			return res
		}
		if onClient != nil {
			onClient(fd)
		}
		payload := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		c := &echoConn{fd: fd, client: true, connecting: true, out: payload}
		conns[fd] = c
		if err := m.Add(fd, mux.Writable); err != nil {
			drop(c, fmt.Sprint("Add: ", err))
		}
	}
	events := make([]mux.Event, 4)
	buf := make([]byte, 700)
	deadline := k.Now().Add(time.Minute)
	for res.ok+res.failed < clients && k.Now().Before(deadline) {
		n, err := m.Wait(events, time.Second)
		if err != nil {
			res.errs = append(res.errs, fmt.Sprint("Wait: ", err))
			return res
		}
		for _, ev := range events[:n] {
			if ev.FD == lfd {
				for {
					fd, err := k.Accept(lfd)
					if err != nil {
						break
					}
					conns[fd] = &echoConn{fd: fd}
					if err := m.Add(fd, mux.Readable); err != nil {
						k.Close(fd)
						delete(conns, fd)
					}
				}
				continue
			}
			c := conns[ev.FD]
			if c == nil {
				continue
			}
			if c.connecting {
				if !ev.Events.Any(mux.Writable | mux.Error) {
					continue
				}
				if e := k.SockErr(c.fd); e != nil {
					drop(c, fmt.Sprint("connect: ", e))
					continue
				}
				c.connecting = false
			}
			if ev.Events.Any(mux.Readable | mux.Error | mux.Hangup) {
				n, err := k.Read(c.fd, buf)
				switch {
				case err == syscall.EAGAIN:
				case err != nil:
					drop(c, fmt.Sprint("read: ", err))
					continue
				case n == 0 && c.client:
					if len(c.in) == size {
						res.ok++
						m.Remove(c.fd)
						k.Close(c.fd)
						delete(conns, c.fd)
					} else {
						drop(c, fmt.Sprintf("EOF after %d of %d bytes", len(c.in), size))
					}
					continue
				case n == 0:
					c.eof = true
				case c.client:
					c.in = append(c.in, buf[:n]...)
				default:
					c.out = append(c.out, buf[:n]...)
				}
			}
			if ev.Events.Has(mux.Writable) && len(c.out) > 0 {
				n, err := k.Write(c.fd, c.out)
				switch {
				case err == syscall.EAGAIN:
				case err != nil:
					drop(c, fmt.Sprint("write: ", err))
					continue
				default:
					c.out = c.out[n:]
				}
			}
			if c.client && len(c.out) == 0 && !c.shut && !c.connecting {
				if err := k.Shutdown(c.fd, fake.ShutWrite); err != nil {
					drop(c, fmt.Sprint("shutdown: ", err))
					continue
				}
				c.shut = true
			}
			want := interest(c)
			if want == 0 {
				m.Remove(c.fd)
				k.Close(c.fd)
				delete(conns, c.fd)
				continue
			}
			if err := m.Modify(c.fd, want); err != nil {
				drop(c, fmt.Sprint("modify: ", err))
			}
		}
	}
	for _, c := range conns {
		if c.client {
			res.failed++
			res.errs = append(res.errs, fmt.Sprintf("fd %d unfinished", c.fd))
		}
		m.Remove(c.fd)
		k.Close(c.fd)
	}
	return res
}
