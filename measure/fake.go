//go:build unix

package measure

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/mux/fake"
)

// fakeKernel returns a fake kernel for measurements: no busy-loop
// detection (the scenarios poll on purpose) and a short trace.
func fakeKernel(fds int) *fake.Kernel {
	return fake.New(fake.Config{BusyLoop: -1, Trace: 1, FDLimit: max(fds, fake.DefaultFDLimit)})
}

// FakeWait is Wait for package mux/fake: Mux is the fake's Wait over
// virtual descriptors (one ready among idle ones, each one end of a
// virtual socketpair), Raw the raw loop of this system's best backend
// (the first of [backend.Names] with one: epoll on Linux) over the same
// numbers of real descriptors.
func FakeWait(idle int) (*Scenario, error) {
	p := &Scenario{PerOp: 1}
	if err := p.openFakeWait(idle); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Scenario) openFakeWait(idle int) error {
	all, err := p.res.idle(idle)
	if err != nil {
		return err
	}
	ready, peer, err := p.res.socketpair()
	if err != nil {
		return err
	}
	if err := writeFull(peer, []byte{1}); err != nil {
		return err
	}
	raw, err := bestRaw()
	if err != nil {
		return err
	}
	p.res.add(raw.Close)
	if p.Raw, err = waitOp(raw, append(all, ready), ready); err != nil {
		return err
	}

	k := fakeKernel(2*idle + 64)
	m, err := k.NewMux()
	if err != nil {
		return err
	}
	p.res.add(m.Close)
	var virtual []int
	for range idle {
		x, _, err := k.Pair()
		if err != nil {
			return err
		}
		virtual = append(virtual, x)
	}
	x, y, err := k.Pair()
	if err != nil {
		return err
	}
	if _, err := k.Write(y, []byte{1}); err != nil {
		return err
	}
	p.Mux, err = waitOp(m, append(virtual, x), x)
	return err
}

// bestRaw returns a new raw loop of the first registered backend that has
// one.
func bestRaw() (backend.RawLoop, error) {
	for _, name := range backend.Names() {
		if b, err := backend.Lookup(name); err == nil && b.Raw != nil {
			return b.Raw()
		}
	}
	return nil, errors.New("no registered backend has a raw loop")
}

// Chunk is the size of one read or write of FakeRead and FakeWrite.
const Chunk = 64

type ioFunc func(fd int, p []byte) (int, error)

func osRead(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err != unix.EINTR {
			return max(n, 0), err
		}
	}
}

func osWrite(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err != unix.EINTR {
			return max(n, 0), err
		}
	}
}

// FakeRead returns a Scenario whose operation is a read of Chunk bytes from
// one end of a socketpair: Raw reads a real one with read(2), Mux a
// virtual one with the fake's Read. When the reader runs dry, the other
// end is filled up again in 4096-byte writes: that refill is counted, and
// costs both sides about one write per 64 reads.
func FakeRead() (*Scenario, error) {
	return openIO(readOp)
}

// FakeWrite returns a Scenario whose operation is a write of Chunk bytes to
// one end of a socketpair: Raw with write(2), Mux with the fake's Write.
// When the buffer fills, the other end is drained in 4096-byte reads,
// which is counted as in FakeRead.
func FakeWrite() (*Scenario, error) {
	return openIO(writeOp)
}

func openIO(op func(x, y int, read, write ioFunc) func(int) error) (*Scenario, error) {
	p := &Scenario{PerOp: 1}
	x, y, err := p.res.socketpair()
	if err != nil {
		p.Close()
		return nil, err
	}
	p.Raw = op(x, y, osRead, osWrite)
	k := fakeKernel(0)
	fx, fy, err := k.Pair()
	if err != nil {
		p.Close()
		return nil, err
	}
	p.Mux = op(fx, fy, k.Read, k.Write)
	return p, nil
}

// readOp reads Chunk bytes from x, refilling through y when x runs dry.
func readOp(x, y int, read, write ioFunc) func(int) error {
	buf := make([]byte, Chunk)
	fill := make([]byte, 4096)
	return func(n int) error {
		for range n {
			k, err := read(x, buf)
			if err == unix.EAGAIN {
				for {
					if _, err := write(y, fill); err != nil {
						break
					}
				}
				k, err = read(x, buf)
			}
			if k != Chunk || err != nil {
				return unexpected("read = %d, %v; want %d bytes", k, err, Chunk)
			}
		}
		return nil
	}
}

// writeOp writes Chunk bytes to x, draining through y when x's buffer is
// full.
func writeOp(x, y int, read, write ioFunc) func(int) error {
	buf := make([]byte, Chunk)
	drain := make([]byte, 4096)
	return func(n int) error {
		for range n {
			k, err := write(x, buf)
			if err == unix.EAGAIN {
				for {
					if _, err := read(y, drain); err != nil {
						break
					}
				}
				k, err = write(x, buf)
			}
			if k != Chunk || err != nil {
				return unexpected("write = %d, %v; want %d bytes", k, err, Chunk)
			}
		}
		return nil
	}
}
