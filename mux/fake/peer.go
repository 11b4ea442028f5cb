package fake

import (
	"slices"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// A Handler is a peer that the kernel runs: code on the other end of a
// connection, such as a server, that reacts when something happens to its
// descriptor. The kernel calls it with the descriptor and what it is ready
// for now, at the virtual instant it happens — when the handler is first
// given the descriptor, when bytes arrive, when room appears to write,
// when the other end shuts down, closes or resets — from the goroutine
// that is moving the clock (a Wait or Advance), with no lock held. It
// reacts with the kernel's calls (Read, Write, SetDelay, Close, …) and
// returns; it must not block, Wait or Advance. It is not called again
// until something changes that it did not do itself, nor after its
// descriptor is closed. (Two handlers that keep answering each other at
// one instant never let the clock move on.)
//
// Handlers run one at a time, in ascending order of descriptor, so a run
// with handlers is as deterministic as one without. Faults never fire on
// their descriptors.
type Handler func(fd int, ev mux.Events)

// Handle makes h the peer of the descriptor fd (a socket, or a pipe's
// end): from the next Wait or Advance on, the kernel calls h as fd's
// state changes. A nil h stops it.
func (k *Kernel) Handle(fd int, h Handler) error {
	return k.call(opHandle, fd, 0, func(f *file) error {
		if f.kind == kindMux {
			return syscall.EINVAL
		}
		k.setHandler(f, h)
		return nil
	})
}

// Serve listens on addr and runs a peer for each connection made there:
// the kernel accepts it as soon as it is made, calls newPeer with the new
// descriptor, and runs the Handler it returns (see Handler; nil leaves the
// connection open with no peer). It returns the listener's descriptor;
// close it to stop serving.
//
//	k.Serve("db:5432", func(fd int) fake.Handler {
//		var req []byte
//		return func(fd int, ev mux.Events) { … read into req, answer when it is complete … }
//	})
func (k *Kernel) Serve(addr string, newPeer func(fd int) Handler) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	fd, err := k.listen(addr)
	if err == nil {
		f := k.files[fd]
		f.serve, f.spared = newPeer, true
		k.peers.add(fd)
	}
	k.recordAddr(opServe, fd, addr, 0, err)
	return fd, err
}

// setHandler makes h f's handler. k.mu is held.
func (k *Kernel) setHandler(f *file, h Handler) {
	f.handler = h
	f.told = ^uint64(0) // never a digest: the handler is called at the next chance
	if h == nil {
		k.peers.drop(f.fd)
		return
	}
	f.spared = true
	k.peers.add(f.fd)
	k.changed()
}

// peers is what the kernel knows of the peers it runs. Guarded by
// Kernel.mu.
type peers struct {
	fds        []int      // descriptors with a Handler, and served listeners, ascending
	parked     []*request // calls of Conns and Listeners waiting to proceed, ascending by (fd, op)
	adapters   int        // Conns and Listeners open
	scheduling bool       // a goroutine is running the peers
}

func (p *peers) add(fd int) {
	if i, ok := slices.BinarySearch(p.fds, fd); !ok {
		p.fds = slices.Insert(p.fds, i, fd)
	}
}

func (p *peers) drop(fd int) {
	if i, ok := slices.BinarySearch(p.fds, fd); ok {
		p.fds = slices.Delete(p.fds, i, i+1)
	}
}

// runPeers lets the peers react to what happened: it calls the handlers
// whose descriptors changed, accepts for served listeners, and, with
// Config.Settle, lets the goroutines of Conns and Listeners whose calls
// can now proceed run, one at a time, each until they are all blocked
// again. It reports whether any peer ran. k.mu is held; it is released
// while peers run, so the caller must recheck its state.
func (k *Kernel) runPeers() bool {
	p := &k.peers
	if len(p.fds) == 0 && p.adapters == 0 || p.scheduling {
		return false // nothing to run, or another goroutine is running them
	}
	p.scheduling = true
	defer func() { p.scheduling = false }() // also if a peer panics
	ran := false
	for {
		if k.settle != nil && p.adapters > 0 {
			k.unlocked(k.settle)
		}
		if !k.callHandlers() && !k.grant() {
			break
		}
		ran = true
	}
	return ran
}

// unlocked runs f with k.mu released and takes it again afterwards, even
// if f panics or ends its goroutine (a failed assertion in a peer, rapid
// ending a test case from a draw): the kernel's methods unlock k.mu as
// they return, and must not unlock it twice. k.mu is held.
func (k *Kernel) unlocked(f func()) {
	k.mu.Unlock()
	defer k.mu.Lock()
	f()
}

// callHandlers makes one pass over the peers' descriptors in ascending
// order and reports whether it ran any. k.mu is held.
func (k *Kernel) callHandlers() bool {
	called := false
	for last := -1; ; {
		i, _ := slices.BinarySearch(k.peers.fds, last+1)
		if i == len(k.peers.fds) {
			return called
		}
		fd := k.peers.fds[i]
		last = fd
		f := k.files[fd]
		if f.serve != nil {
			if len(f.backlog) == 0 {
				continue
			}
			nfd, err := k.acceptLocked(fd)
			if err != nil {
				continue
			}
			called = true
			nf := k.files[nfd]
			nf.spared = true
			var h Handler
			k.unlocked(func() { h = f.serve(nfd) })
			if k.files[nfd] == nf && h != nil {
				k.setHandler(nf, h)
			}
			continue
		}
		d := k.digest(f)
		if d == f.told || f.handler == nil {
			continue
		}
		called = true
		h, ev := f.handler, k.readiness(f)
		k.record(opPeer, fd, int64(ev), 0, nil)
		k.unlocked(func() { h(fd, ev) })
		if k.files[fd] == f {
			f.told = k.digest(f)
		}
	}
}

// digest sums up what a peer's descriptor is ready for and how far its
// stream has come, so that new bytes count as a change even when it was
// readable already. k.mu is held.
func (k *Kernel) digest(f *file) uint64 {
	d := uint64(k.readiness(f))
	if f.rx != nil {
		d = mix(d ^ uint64(f.rx.read+int64(f.rx.arrived))<<16)
	}
	return d
}

// reqOp is what a parked call of a Conn or Listener waits to do.
type reqOp uint8

const (
	reqRead reqOp = iota
	reqWrite
	reqAccept
)

// request is a call of a Conn or Listener that cannot proceed yet.
// Guarded by Kernel.mu.
type request struct {
	f       *file
	fd      int
	op      reqOp
	dl      *deadline
	granted bool // with Config.Settle: the scheduler let it run
}

// deadline is a Conn's read or write deadline on the kernel's clock.
// Guarded by Kernel.mu.
type deadline struct {
	at  time.Duration
	set bool
}

func (d *deadline) passed(now time.Duration) bool { return d != nil && d.set && now >= d.at }

// ready reports whether r can proceed: it has something to do, or its
// descriptor was closed. k.mu is held.
func (k *Kernel) ready(r *request) bool {
	if k.lookup(r.fd) != r.f {
		return true
	}
	switch r.op {
	case reqRead:
		return k.readiness(r.f)&mux.Readable != 0
	case reqWrite:
		return k.readiness(r.f)&mux.Writable != 0
	}
	return len(r.f.backlog) > 0
}

// grant lets the first parked call that can proceed run, with
// Config.Settle, and reports whether there was one. k.mu is held.
func (k *Kernel) grant() bool {
	if k.settle == nil {
		return false
	}
	for _, r := range k.peers.parked {
		if !r.granted && k.ready(r) {
			r.granted = true
			k.cond.Broadcast()
			return true
		}
	}
	return false
}

// park blocks the goroutine of a Conn or Listener call until it can
// proceed — with Config.Settle, until the scheduler lets it — or its
// deadline passes (os.ErrDeadlineExceeded) or it is closed (the caller
// sees that when it tries again). k.mu is held.
func (k *Kernel) park(r *request) error {
	p := &k.peers
	i, _ := slices.BinarySearchFunc(p.parked, r, func(a, b *request) int {
		if a.fd != b.fd {
			return a.fd - b.fd
		}
		return int(a.op) - int(b.op)
	})
	p.parked = slices.Insert(p.parked, i, r)
	defer func() {
		if i := slices.Index(p.parked, r); i >= 0 {
			p.parked = slices.Delete(p.parked, i, i+1)
		}
	}()
	for {
		switch {
		case r.dl.passed(k.now):
			return errDeadline
		case k.lookup(r.fd) != r.f, r.granted, k.settle == nil && k.ready(r):
			return nil
		}
		k.sleep()
	}
}
