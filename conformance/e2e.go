package conformance

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// The end-to-end scenario: a minimal event loop, in one goroutine, over
// the Multiplexer under test. Half the ends of e2ePairs socket pairs are
// clients that write a request (large enough to take many partial writes
// on every backend) while reading the response; the other half are
// servers that echo what they read, with backpressure, until end of
// stream. Every exchange must complete with exactly its bytes.
//
// It leans on rules 2 (a partial read or write is only finished because
// the condition is reported again), 3 (what is reported matches the
// interest, EOF is Readable) and 6 (a small events buffer must not starve
// any exchange) together, as a real loop does.

const (
	e2ePairs    = 16
	e2eRoom     = 4        // events per Wait: fewer than the ready ends
	e2eMaxQueue = 64 << 10 // server: stop reading while this much echo is pending
	e2eWaits    = 200000   // bound on Waits, whatever the clock does
)

// e2eEnd is one end of an exchange.
type e2eEnd struct {
	fd       int
	client   bool
	req      []byte // client: the request
	sent     int    // client: bytes of req written
	got      []byte // client: response so far; server: echo pending
	eof      bool   // end of stream read
	shut     bool   // own writing side shut down
	finished bool
	interest mux.Events
}

// e2eRequest returns the request of exchange i: from a few bytes to about
// a megabyte, filled with a pattern that depends on i.
func e2eRequest(i int) []byte {
	size := 1 + (i*104729)%(1<<20)
	if i%4 == 0 {
		size = 1 + i
	}
	p := make([]byte, size)
	for j := range p {
		p[j] = byte(i*7 + j*13 + j>>8)
	}
	return p
}

func checkExchanges(c *trial) {
	ends := map[int]*e2eEnd{}
	for i := range e2ePairs {
		a, b := c.pair()
		ends[a] = &e2eEnd{fd: a, client: true, req: e2eRequest(i)}
		ends[b] = &e2eEnd{fd: b}
	}
	for _, e := range ends {
		e.interest = e.want()
		c.add(e.fd, e.interest)
	}
	left := len(ends)
	buf := make([]byte, 32<<10)
	deadline := c.h.Now().Add(prompt * 6)
	waits := 0
	for left > 0 {
		if waits++; waits > e2eWaits || c.h.Now().After(deadline) {
			c.Fatalf("e2e: %d of %d ends unfinished after %d Waits; want every exchange to complete (%s)",
				left, len(ends), waits-1, e2eState(ends))
		}
		w := c.wait(e2eRoom, time.Second)
		if w.err != nil {
			c.Fatalf("e2e: Wait = %v; want events", w)
		}
		for _, ev := range w.events {
			e := ends[ev.FD]
			if e == nil || e.finished {
				c.Fatalf("e2e: Wait reported %v for an fd that is not added", ev)
			}
			if err := e.step(c, ev.Events, buf); err != nil {
				c.Fatalf("e2e: %s fd %d: %v", e.role(), e.fd, err)
			}
			want := e.want()
			switch {
			case want == 0:
				c.remove(e.fd)
				e.finished = true
				left--
			case want != e.interest:
				c.modify(e.fd, want)
				e.interest = want
			}
		}
	}
	for _, e := range ends {
		if e.client && string(e.got) != string(e.req) {
			c.Errorf("e2e: client fd %d got %d bytes back; want its %d-byte request, byte for byte (first difference at %d)",
				e.fd, len(e.got), len(e.req), firstDiff(e.got, e.req))
		}
	}
}

func (e *e2eEnd) role() string {
	if e.client {
		return "client"
	}
	return "server"
}

// want returns the interest the end waits with, or 0 when it is finished.
func (e *e2eEnd) want() mux.Events {
	var ev mux.Events
	if e.client {
		if e.sent < len(e.req) {
			ev |= mux.Writable
		}
		if !e.eof {
			ev |= mux.Readable
		}
		return ev
	}
	if len(e.got) > 0 {
		ev |= mux.Writable
	}
	if !e.eof && len(e.got) < e2eMaxQueue {
		ev |= mux.Readable
	}
	return ev
}

// step handles one event: read what there is, write what is pending,
// shut down the writing side when done. EAGAIN is never an error: the
// readiness may have been used up.
func (e *e2eEnd) step(c *trial, ev mux.Events, buf []byte) error {
	fds := c.h.FDs
	if ev&(mux.Readable|mux.ReadHangup|mux.Hangup|mux.Error) != 0 && e.interest.Has(mux.Readable) {
		room := len(buf)
		if !e.client {
			room = min(room, e2eMaxQueue-len(e.got))
		}
		n, err := fds.Read(e.fd, buf[:room])
		switch {
		case retry(err):
		case err != nil:
			return fmt.Errorf("Read = %d, %v; want data, EAGAIN or EOF", n, err)
		case n == 0:
			e.eof = true
		default:
			e.got = append(e.got, buf[:n]...)
			if e.client && len(e.got) > len(e.req) {
				return fmt.Errorf("response is %d bytes so far; want %d (the request echoed)", len(e.got), len(e.req))
			}
		}
	}
	if ev&(mux.Writable|mux.Hangup|mux.Error) != 0 && e.interest.Has(mux.Writable) {
		out := e.got
		if e.client {
			out = e.req[e.sent:]
		}
		n, err := fds.Write(e.fd, out)
		switch {
		case retry(err):
		case err != nil:
			return fmt.Errorf("Write of %d bytes = %d, %v; want progress or EAGAIN", len(out), n, err)
		case n > len(out) || n < 0:
			return fmt.Errorf("Write of %d bytes = %d; want at most %d", len(out), n, len(out))
		case e.client:
			e.sent += n
		default:
			e.got = e.got[:copy(e.got, e.got[n:])]
		}
	}
	// A client shuts its writing side once the request is out; a server
	// once it has echoed everything up to end of stream.
	if !e.shut && (e.client && e.sent == len(e.req) || !e.client && e.eof && len(e.got) == 0) {
		if err := fds.ShutdownWrite(e.fd); err != nil {
			return fmt.Errorf("ShutdownWrite = %v; want nil", err)
		}
		e.shut = true
	}
	return nil
}

// retry reports whether a read or write should be tried again later.
// EWOULDBLOCK is EAGAIN on every Unix system, and wasip1 has no other.
func retry(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR)
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// e2eState summarises the unfinished ends for a failure message.
func e2eState(ends map[int]*e2eEnd) string {
	s, shown := "", 0
	for _, e := range ends {
		if e.finished || shown == 4 {
			continue
		}
		shown++
		s += fmt.Sprintf("%s fd %d: interest %v, sent %d/%d, got %d, eof %v; ", e.role(), e.fd, e.interest, e.sent, len(e.req), len(e.got), e.eof)
	}
	return s
}
