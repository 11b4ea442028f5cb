package fake

import (
	"bytes"
	"fmt"
	"syscall"

	"github.com/muxkit/muxkit/mux"
)

// A Violation is a rule the kernel saw the code under test break, with
// the calls that show it.
type Violation struct {
	Kind   string // "conservation" or "stale"
	FD     int    // the descriptor of the call that broke it
	Offset int64  // conservation: the offset, in the stream, of the first byte that is wrong or missing
	Call   Record // the call that broke it; Seq 0 for bytes never read (see Kernel.Conserve)
	Event  Record // stale: the wait that reported FD before its number was reused (its events only FD's)
	Reused Record // stale: the reuse of FD's number
	Msg    string // what happened, in words
}

func (v Violation) String() string {
	s := v.Kind + ": " + v.Msg
	if v.Call.Seq != 0 {
		s += "; at " + v.Call.String()
	}
	if v.Event.Seq != 0 {
		s += "; the event at " + v.Event.String()
	}
	if v.Reused.Seq != 0 {
		s += "; the reuse at " + v.Reused.String()
	}
	return s
}

// violate records v, in the trace too. k.mu is held.
func (k *Kernel) violate(v Violation) {
	k.violations = append(k.violations, v)
	k.record(opViolation, v.FD, v.Offset, 0, nil)
}

// A stream is a flow of bytes that the test declared conserved: what is
// written on src is read on dst, once and in order (Conserve). Guarded by
// Kernel.mu.
type stream struct {
	src, dst *file
	srcFD    int    // the numbers at the declaration, for reports
	dstFD    int    //
	pending  []byte // written on src, not yet read on dst
	read     int64  // bytes read on dst: the offset of pending[0]
	cut      bool   // a reset hit src or dst: pending may never arrive
	broken   bool   // a violation was reported: checking stopped
}

// Conserve declares that the bytes written on src are to be read on dst,
// exactly once and in order, because the code under test relays them: an
// echo server sends a connection's bytes back to it (Conserve(c, c), c
// being the test's end), a proxy from one connection to another
// (Conserve(c, u), c the client's end and u the upstream server's). The
// kernel moves every byte of every connection exactly once and in order
// by itself; what it cannot know is where the code under test means its
// bytes to go, and Conserve tells it.
//
// From then on the kernel keeps what is written on src until dst reads
// it, and checks each read on dst at its offset: the first byte that
// differs — one sent twice, one skipped, one from another stream — is a
// violation, reported by End (and so by CheckClean) with its offset in
// the stream; checking that stream then stops. End also reports bytes
// written on src that dst never read, unless a reset cut the way (src's
// or dst's connection was reset, by a fault or otherwise).
func (k *Kernel) Conserve(src, dst int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	err := k.conserve(src, dst)
	k.record(opConserve, src, int64(dst), 0, err)
	return err
}

func (k *Kernel) conserve(src, dst int) error {
	s, d := k.lookup(src), k.lookup(dst)
	switch {
	case s == nil || d == nil:
		return syscall.EBADF
	case s.kind != kindStream && s.kind != kindPipeW, d.kind != kindStream && d.kind != kindPipeR:
		return syscall.EINVAL // src cannot be written or dst read
	}
	st := &stream{src: s, dst: d, srcFD: src, dstFD: dst}
	s.out = append(s.out, st)
	d.in = append(d.in, st)
	s.conserved, d.conserved = true, true
	k.streams = append(k.streams, st)
	return nil
}

// wrote adds p, just written on f, to the streams f is the source of.
// k.mu is held.
func (k *Kernel) wrote(f *file, p []byte) {
	for _, s := range f.out {
		if !s.broken {
			s.pending = append(s.pending, p...)
		}
	}
}

// readOn checks p, just read on f (open as fd) by the call r, against the
// streams f is the destination of. k.mu is held.
func (k *Kernel) readOn(f *file, fd int, p []byte, r Record) {
	for _, s := range f.in {
		if s.broken {
			continue
		}
		n := len(p)
		i := 0
		for i < n && i < len(s.pending) && p[i] == s.pending[i] {
			i++
		}
		if i < n {
			s.broken = true
			msg := fmt.Sprintf("fd %d read %q at offset %d of the stream from fd %d, where fd %d wrote ", fd, p[i:min(i+8, n)], s.read+int64(i), s.srcFD, s.srcFD)
			if i < len(s.pending) {
				msg += fmt.Sprintf("%q", s.pending[i:min(i+8, len(s.pending))])
				if j := bytes.Index(s.pending[:i], p[i:min(i+8, n)]); j >= 0 || i > 0 && bytes.HasPrefix(p[i:], s.pending[:1]) {
					msg += " (bytes sent again?)"
				}
			} else {
				msg += fmt.Sprintf("only %d bytes (bytes sent twice, or from another stream?)", s.read+int64(len(s.pending)))
			}
			k.violate(Violation{Kind: "conservation", FD: fd, Offset: s.read + int64(i), Call: r, Msg: msg})
			continue
		}
		s.pending = s.pending[n:]
		s.read += int64(n)
		if len(s.pending) == 0 {
			s.pending = nil // let the memory go
		}
	}
}

// cut marks the streams through f as cut by a reset. k.mu is held.
func (k *Kernel) cut(f *file) {
	for _, s := range f.out {
		s.cut = true
	}
	for _, s := range f.in {
		s.cut = true
	}
}

// lost reports, as violations, the bytes of the streams that were written
// and never read, unless a reset cut the stream. k.mu is held.
func (k *Kernel) lost() []Violation {
	var vs []Violation
	for _, s := range k.streams {
		if s.broken || s.cut || len(s.pending) == 0 {
			continue
		}
		vs = append(vs, Violation{Kind: "conservation", FD: s.dstFD, Offset: s.read,
			Msg: fmt.Sprintf("%d bytes written on fd %d from offset %d were never read on fd %d", len(s.pending), s.srcFD, s.read, s.dstFD)})
	}
	return vs
}

// A stale use is the code under test acting on a descriptor number that
// the Reuse fault closed and gave to a new socket after a Wait reported
// it: the code acts on the strength of an event about the old file. In a
// real process the number would be some other connection's.
type staleUse struct {
	fd     int
	f      *file  // the new socket the number names
	m      *Mux   // the Multiplexer whose Wait reported it: its next Wait ends the staleness
	event  Record // that Wait
	reused Record
}

// stale records that fd, reported by the last Wait of m, was reused by f.
// k.mu is held.
func (k *Kernel) stale(fd int, f *file, m *Mux, reused Record) {
	ev := k.recordAt(m.lastWait, opWait)
	var mine []mux.Event
	for _, e := range ev.Events {
		if e.FD == fd {
			mine = append(mine, e)
		}
	}
	ev.Events = mine
	k.stales = append(k.stales, staleUse{fd: fd, f: f, m: m, event: ev, reused: reused})
}

// checkStale is called for each record r of a call o: a use of a stale
// number is a violation; a close or remove of it, or a new Wait of its
// Multiplexer, ends its staleness. k.mu is held.
func (k *Kernel) checkStale(o op, r Record) {
	keep := k.stales[:0]
	for _, s := range k.stales {
		switch {
		case k.lookup(s.fd) != s.f, o == opWait && r.FD == s.m.fd, (o == opClose || o == opRemove) && r.FD == s.fd:
			continue // no longer stale
		case r.FD == s.fd && o.uses():
			k.violations = append(k.violations, Violation{Kind: "stale", FD: s.fd, Call: r, Event: s.event, Reused: s.reused,
				Msg: fmt.Sprintf("%s of fd %d after its number was closed and given to a new socket, on the strength of an event about the old one (in a real process, another connection's descriptor)", o, s.fd)})
		}
		keep = append(keep, s)
	}
	k.stales = keep
}
