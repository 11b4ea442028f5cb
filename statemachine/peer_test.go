package statemachine

import (
	"io"
	"syscall"
)

// peer is the far end of a connection and the kernel between, as the
// property tests simulate them: it answers a machine's reads and writes,
// shaped by a drawn envStep.
type peer struct {
	stream   []byte  // what the peer sends, in order
	peerSent int     // bytes of stream sent so far
	peerShut bool    // the peer shut its sending side after peerSent
	reset    bool    // the connection was reset
	readPos  int     // bytes of stream the machine has read
	injected []error // errors the peer put into results
}

func (p *peer) inject(err error) error {
	p.injected = append(p.injected, err)
	return err
}

// wrote answers a write of n bytes: all, part, none, EAGAIN, EINTR, or a
// reset once in resetOdds of the draws that may reset. A nil s answers
// cooperatively.
func (p *peer) wrote(n int, s *envStep, resetOdds int) Input {
	switch {
	case p.reset:
		return Wrote(-1, syscall.EPIPE)
	case s == nil:
		return Wrote(n, nil)
	}
	switch s.Kind % 8 {
	case 0, 1:
		return Wrote(n, nil)
	case 2, 3:
		return Wrote(1+s.Size%n, nil)
	case 4:
		return Wrote(-1, syscall.EAGAIN)
	case 5:
		return Wrote(0, nil)
	case 6:
		if s.Size%resetOdds == 0 {
			p.reset = true
			return Wrote(-1, p.inject(syscall.ECONNRESET))
		}
		return Wrote(-1, syscall.EINTR)
	default:
		return Wrote(s.Size%(n+1), syscall.EAGAIN)
	}
}

// read answers a read of at most max bytes from what the peer has sent:
// some, EAGAIN, EOF (as io.EOF or as 0 bytes), or a reset once in
// resetOdds of the draws that may reset. A nil s answers cooperatively.
func (p *peer) read(max int, s *envStep, resetOdds int) Input {
	if p.reset {
		return Read(nil, syscall.ECONNRESET)
	}
	avail := p.peerSent - p.readPos
	if avail == 0 {
		if p.peerShut {
			if s != nil && s.Kind%2 == 0 {
				return Read(nil, io.EOF)
			}
			return Read(nil, nil)
		}
		return Read(nil, syscall.EAGAIN)
	}
	k := min(avail, max)
	var err error
	if s != nil {
		switch s.Kind % 6 {
		case 0, 1, 2:
			k = 1 + s.Size%k
		case 3:
			return Read(nil, syscall.EAGAIN)
		case 4:
			k, err = 1+s.Size%k, syscall.EAGAIN
		case 5:
			if s.Size%resetOdds == 0 {
				p.reset = true
				return Read(nil, p.inject(syscall.ECONNRESET))
			}
		}
	}
	data := p.stream[p.readPos : p.readPos+k]
	p.readPos += k
	return Read(data, err)
}
