// Package load is the peers benchmark's load generator: Conns connections
// to an echo server, each sending a line of Size bytes and waiting for the
// same bytes back before it sends the next, all on one thread over raw
// epoll. It checks every byte that comes back.
package load

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Config is a load to make.
type Config struct {
	Addr  string // the server: an IPv4 literal and a port
	Conns int    // connections, each with one line in flight
	Size  int    // bytes of a line, its newline included; at least MinSize
}

// MinSize is the shortest line: it carries its connection and sequence
// number, so that a server that mixes up or replays lines is caught.
const MinSize = 26

// Result is what the generator measured in the window between "start"
// and "stop".
type Result struct {
	RoundTrips int64         // lines sent and received back whole in the window
	Window     time.Duration // the window, on the generator's clock
	P50, P99   time.Duration // round-trip latency: line written to echo read back
	Echoed     int64         // bytes received back in the window, every one checked
	Wrong      int64         // lines, over the whole run, whose echo differed from the line sent
	FirstWrong string        // the first of them, sent and received
}

// conn is one connection's line in flight.
type conn struct {
	id         uint32
	seq        uint64
	out, in    []byte
	sent, got  int   // bytes of out written, of in received
	sentAt     int64 // when the line was first written, in ns on clock
	connecting bool
}

// gen is the generator's state.
type gen struct {
	cfg    Config
	ep     int
	conns  []*conn // by descriptor
	epoch  time.Time
	events []unix.EpollEvent

	measuring bool
	res       Result
	h         hist
}

// Run connects cfg.Conns connections to cfg.Addr, calls connected once
// every one is connected, and ping-pongs lines on all of them until told
// to stop. It reads its commands, one a line, from the descriptor ctl:
// "start" opens the measured window and "stop" closes it, and Run then
// returns what it measured. A connection that fails or that the server
// closes ends the run with an error.
func Run(cfg Config, ctl int, connected func()) (Result, error) {
	ap, err := netip.ParseAddrPort(cfg.Addr)
	if err != nil || !ap.Addr().Is4() {
		return Result{}, fmt.Errorf("load: address %q: want an IPv4 literal and a port", cfg.Addr)
	}
	if cfg.Conns < 1 || cfg.Size < MinSize {
		return Result{}, fmt.Errorf("load: %d connections of %d-byte lines: want at least 1 connection and %d bytes", cfg.Conns, cfg.Size, MinSize)
	}
	g := &gen{cfg: cfg, epoch: time.Now(), events: make([]unix.EpollEvent, 256)}
	if g.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return Result{}, fmt.Errorf("load: epoll_create1: %w", err)
	}
	defer g.close()
	if err := g.epollCtl(unix.EPOLL_CTL_ADD, ctl, unix.EPOLLIN); err != nil {
		return Result{}, err
	}
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	for i := range cfg.Conns {
		if err := g.dial(uint32(i), sa); err != nil {
			return Result{}, err
		}
	}
	return g.run(ctl, connected)
}

// now returns the time on the generator's clock, in ns.
func (g *gen) now() int64 { return int64(time.Since(g.epoch)) }

// epollCtl changes the registration of fd.
func (g *gen) epollCtl(op, fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(g.ep, op, fd, &ev); err != nil {
		return fmt.Errorf("load: epoll_ctl: %w", err)
	}
	return nil
}

// dial starts connection id's non-blocking connect.
func (g *gen) dial(id uint32, sa unix.Sockaddr) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("load: socket: %w", err)
	}
	c := &conn{id: id, out: make([]byte, g.cfg.Size), in: make([]byte, g.cfg.Size), connecting: true}
	for fd >= len(g.conns) {
		g.conns = append(g.conns, nil)
	}
	g.conns[fd] = c
	if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
		return fmt.Errorf("load: connect %s: %w", g.cfg.Addr, err)
	}
	return g.epollCtl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLOUT)
}

// close closes every connection and the epoll instance.
func (g *gen) close() {
	for fd, c := range g.conns {
		if c != nil {
			unix.Close(fd)
		}
	}
	unix.Close(g.ep)
}

// run is the generator's loop, from the connects to "stop".
func (g *gen) run(ctl int, connected func()) (Result, error) {
	var cmds []byte
	var t0 int64
	waiting := g.cfg.Conns // connections not yet connected
	for {
		n, err := unix.EpollWait(g.ep, g.events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("load: epoll_wait: %w", err)
		}
		for _, ev := range g.events[:n] {
			fd := int(ev.Fd)
			if fd != ctl {
				c := g.conns[fd]
				if c.connecting {
					if err := g.connected(fd, c); err != nil {
						return Result{}, err
					}
					if waiting--; waiting == 0 {
						connected()
					}
					continue
				}
				if err := g.serve(fd, c, ev.Events); err != nil {
					return Result{}, err
				}
				continue
			}
			var b [64]byte
			m, err := unix.Read(ctl, b[:])
			if m <= 0 {
				if err == unix.EAGAIN || err == unix.EINTR {
					continue
				}
				return Result{}, fmt.Errorf("load: the control stream ended before stop (%v)", err)
			}
			cmds = append(cmds, b[:m]...)
			for {
				line, rest, ok := bytes.Cut(cmds, []byte("\n"))
				if !ok {
					break
				}
				cmds = rest
				switch string(line) {
				case "start":
					g.measuring, g.res, g.h = true, Result{Wrong: g.res.Wrong, FirstWrong: g.res.FirstWrong}, hist{}
					t0 = g.now()
				case "stop":
					if !g.measuring {
						return Result{}, errors.New("load: stop before start")
					}
					if waiting > 0 {
						return Result{}, fmt.Errorf("load: %d of %d connections never connected", waiting, g.cfg.Conns)
					}
					g.res.Window = time.Duration(g.now() - t0)
					g.res.P50, g.res.P99 = g.h.quantile(0.5), g.h.quantile(0.99)
					return g.res, nil
				default:
					return Result{}, fmt.Errorf("load: unknown command %q", line)
				}
			}
		}
	}
}

// connected finishes c's connect and sends its first line.
func (g *gen) connected(fd int, c *conn) error {
	soErr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && soErr != 0 {
		err = unix.Errno(soErr)
	}
	if err != nil {
		return fmt.Errorf("load: connect %s: %w", g.cfg.Addr, err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return fmt.Errorf("load: TCP_NODELAY: %w", err)
	}
	c.connecting = false
	if err := g.epollCtl(unix.EPOLL_CTL_MOD, fd, unix.EPOLLIN); err != nil {
		return err
	}
	return g.next(fd, c)
}

// next writes c's next line.
func (g *gen) next(fd int, c *conn) error {
	c.seq++
	fill(c.out, c.id, c.seq)
	c.sent, c.got = 0, 0
	c.sentAt = g.now()
	w, err := unix.Write(fd, c.out)
	if w == len(c.out) {
		c.sent = w
		return nil
	}
	return g.short(fd, c, w, err, false)
}

// short handles a write of c's line that fell short: it waits for
// Writable to write the rest.
func (g *gen) short(fd int, c *conn, w int, err error, waiting bool) error {
	if err != nil && err != unix.EAGAIN && err != unix.EINTR {
		return fmt.Errorf("load: write to connection %d: %w", c.id, err)
	}
	c.sent += max(w, 0)
	if waiting {
		return nil
	}
	return g.epollCtl(unix.EPOLL_CTL_MOD, fd, unix.EPOLLOUT)
}

// serve handles readiness of c: the rest of its line to write, or its
// echo to read.
func (g *gen) serve(fd int, c *conn, events uint32) error {
	if c.sent < len(c.out) {
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return nil
		}
		w, err := unix.Write(fd, c.out[c.sent:])
		if w != len(c.out)-c.sent {
			return g.short(fd, c, w, err, true)
		}
		c.sent = len(c.out)
		return g.epollCtl(unix.EPOLL_CTL_MOD, fd, unix.EPOLLIN)
	}
	n, err := unix.Read(fd, c.in[c.got:])
	if n <= 0 {
		if err == unix.EAGAIN || err == unix.EINTR {
			return nil
		}
		if err == nil {
			return fmt.Errorf("load: the server closed connection %d", c.id)
		}
		return fmt.Errorf("load: read from connection %d: %w", c.id, err)
	}
	if c.got += n; c.got < len(c.in) {
		return nil
	}
	if !bytes.Equal(c.in, c.out) {
		if g.res.Wrong == 0 {
			g.res.FirstWrong = fmt.Sprintf("sent %q, received %q", c.out, c.in)
		}
		g.res.Wrong++
	}
	if g.measuring {
		g.res.RoundTrips++
		g.res.Echoed += int64(len(c.in))
		g.h.record(time.Duration(g.now() - c.sentAt))
	}
	return g.next(fd, c)
}

// fill writes line seq of connection id into b: the two numbers in hex,
// letters that shift with seq, and a newline.
func fill(b []byte, id uint32, seq uint64) {
	const hex = "0123456789abcdef"
	for i := range 8 {
		b[i] = hex[id>>(28-4*i)&0xf]
	}
	b[8] = ' '
	for i := range 16 {
		b[9+i] = hex[seq>>(60-4*i)&0xf]
	}
	for i := 25; i < len(b)-1; i++ {
		b[i] = 'a' + byte((seq+uint64(i))%26)
	}
	b[len(b)-1] = '\n'
}
