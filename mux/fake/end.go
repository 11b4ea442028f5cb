package fake

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// End is what a run left in a Kernel, for a test to check at its end: a
// test that passes with a descriptor leaked, a registration left behind,
// bytes nobody read, a connection the loop never finished closing, or a
// fault that never fired (and so proved nothing) passes for the wrong
// reason. Kernel.End returns it, and CheckClean fails a test with it.
type End struct {
	Open       []Leftover  // descriptors still open, Multiplexers' own included
	Added      []Leftover  // descriptors still added to an open Multiplexer, closed ones included
	Unread     []Leftover  // bytes written and never read, by reader; connections never accepted
	HalfClosed []Leftover  // open sockets whose connection has ended in one direction only
	Stranded   []Stranded  // registrations with a mode, ready, that will not be reported
	Unfired    []string    // faults switched on at some time that never fired
	Violations []Violation // broken streams (Conserve), calls on reused numbers (Faults.Reuse)
}

// A Leftover is one thing a run left behind.
type Leftover struct {
	FD   int    // the descriptor it concerns
	Peer bool   // FD is a peer's: a Handler's, a served listener or connection, a Conn's or a Listener's
	N    int    // Unread: the bytes (or connections) not read
	What string // what is left, in words
}

func (l Leftover) String() string {
	s := fmt.Sprintf("fd %d: %s", l.FD, l.What)
	if l.Peer {
		s += " (a peer's)"
	}
	return s
}

// Clean reports whether the run left nothing behind.
func (e *End) Clean() bool {
	return len(e.Open)+len(e.Added)+len(e.Unread)+len(e.HalfClosed)+len(e.Stranded)+len(e.Unfired)+len(e.Violations) == 0
}

// String lists what is left, one heading a kind, one item a line.
func (e *End) String() string {
	var b strings.Builder
	list := func(title string, items []Leftover) {
		if len(items) > 0 {
			fmt.Fprintf(&b, "%s:\n", title)
			for _, l := range items {
				fmt.Fprintf(&b, "\t%v\n", l)
			}
		}
	}
	list("descriptors left open", e.Open)
	list("registrations left", e.Added)
	list("bytes never read", e.Unread)
	list("connections half closed", e.HalfClosed)
	if len(e.Stranded) > 0 {
		b.WriteString("registrations ready that will not be reported:\n")
		for _, s := range e.Stranded {
			fmt.Fprintf(&b, "\t%v\n", s)
		}
	}
	if len(e.Unfired) > 0 {
		fmt.Fprintf(&b, "faults switched on that never fired (the test proved nothing about them): %s\n", strings.Join(e.Unfired, ", "))
	}
	if len(e.Violations) > 0 {
		b.WriteString("violations:\n")
		for _, v := range e.Violations {
			fmt.Fprintf(&b, "\t%v\n", v)
		}
	}
	return b.String()
}

// End returns what the run has left so far: see End.
func (k *Kernel) End() End {
	k.mu.Lock()
	defer k.mu.Unlock()
	var e End
	for fd, f := range k.files {
		if f == nil {
			continue
		}
		e.Open = append(e.Open, Leftover{FD: fd, Peer: f.spared, What: describe(f)})
		switch {
		case f.kind == kindMux && !f.mux.closed:
			m := f.mux
			for afd, r := range m.regs {
				if r.interest == 0 {
					continue
				}
				l := Leftover{FD: afd, What: fmt.Sprintf("added to fd %d for %v", fd, r.interest)}
				if g := k.lookup(afd); g == nil {
					l.What += ", closed while added"
				} else {
					l.Peer = g.spared
				}
				e.Added = append(e.Added, l)
			}
			e.Stranded = append(e.Stranded, m.stranded(false)...)
		case f.kind == kindListener && len(f.backlog) > 0:
			e.Unread = append(e.Unread, Leftover{FD: fd, Peer: f.spared, N: len(f.backlog), What: fmt.Sprintf("%d connections never accepted", len(f.backlog))})
		}
		if b := f.rx; b != nil && len(b.data) > b.off {
			n := len(b.data) - b.off
			what := fmt.Sprintf("%d bytes never read", n)
			if n > b.arrived {
				what += fmt.Sprintf(" (%d of them on their way)", n-b.arrived)
			}
			e.Unread = append(e.Unread, Leftover{FD: fd, Peer: f.spared, N: n, What: what})
		}
		if what := halfClosed(f); what != "" {
			e.HalfClosed = append(e.HalfClosed, Leftover{FD: fd, Peer: f.spared, What: what})
		}
	}
	for kind, armed := range k.armed {
		if armed && k.fired[kind] == 0 {
			e.Unfired = append(e.Unfired, faultKind(kind).String())
		}
	}
	e.Violations = append(slices.Clone(k.violations), k.lost()...)
	return e
}

// describe says what f is. k.mu is held.
func describe(f *file) string {
	s := kindNames[f.kind]
	if f.kind != kindStream {
		return s
	}
	switch {
	case f.state == sockFresh:
		return s + ", never connected"
	case f.state == sockConnecting:
		return s + ", connecting"
	case f.state == sockClosed:
		return s + ", its connection reset or refused"
	case f.peer.state == sockClosed:
		return s + ", the other end closed"
	}
	return s + ", connected"
}

// halfClosed says how the connection of f has ended in one direction
// only, or returns "". k.mu is held.
func halfClosed(f *file) string {
	if f.kind != kindStream || f.state != sockConnected {
		return ""
	}
	in := f.rx.fin || f.rdShut || f.peer.state == sockClosed
	out := f.wrShut
	switch {
	case in && !out:
		if f.peer.state == sockClosed {
			return "the other end closed; this end never closed"
		}
		return "the other end shut down writing; this end never did"
	case out && !in:
		return "shut down writing; the other end never did"
	}
	return ""
}

// An Allow is a leftover a test expects: CheckClean applies it to the End
// before it judges, so that what it removes does not fail the test.
type Allow func(*End)

// AllowFDs allows whatever is left on the descriptors fds: open, added,
// unread, half closed or stranded.
func AllowFDs(fds ...int) Allow {
	return allowIf(func(l Leftover) bool { return slices.Contains(fds, l.FD) })
}

// AllowPeers allows whatever is left on the descriptors of peers.
func AllowPeers() Allow {
	return allowIf(func(l Leftover) bool { return l.Peer })
}

// AllowUnfired allows the faults named (all of them if none is) not to
// have fired.
func AllowUnfired(faults ...string) Allow {
	return func(e *End) {
		e.Unfired = slices.DeleteFunc(e.Unfired, func(f string) bool { return len(faults) == 0 || slices.Contains(faults, f) })
	}
}

// AllowStale allows calls on numbers the Reuse fault gave away: a test
// that injects Reuse to check that its loop fails cleanly expects the
// loop's first call on such a number, which is how the loop learns.
func AllowStale() Allow {
	return func(e *End) {
		e.Violations = slices.DeleteFunc(e.Violations, func(v Violation) bool { return v.Kind == "stale" })
	}
}

func allowIf(allowed func(Leftover) bool) Allow {
	return func(e *End) {
		for _, ls := range []*[]Leftover{&e.Open, &e.Added, &e.Unread, &e.HalfClosed} {
			*ls = slices.DeleteFunc(*ls, allowed)
		}
		e.Stranded = slices.DeleteFunc(e.Stranded, func(s Stranded) bool { return allowed(Leftover{FD: s.FD, Peer: s.peer}) })
	}
}

// CheckClean fails t, saying what was left, unless the run left k clean
// but for what allow allows. Call it at the end of a test, after the loop
// has stopped and closed what it opened (its Multiplexer too, or allow
// its descriptor: AllowFDs(m.FD())).
func CheckClean(t testing.TB, k *Kernel, allow ...Allow) {
	t.Helper()
	e := k.End()
	for _, a := range allow {
		a(&e)
	}
	if !e.Clean() {
		t.Errorf("the run did not end clean:\n%s", &e)
	}
}
