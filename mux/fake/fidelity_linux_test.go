//go:build linux

package fake_test

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
	"github.com/muxkit/muxkit/mux/fake"
)

// The fidelity test runs the same step-by-step scripts on the real kernel
// — TCP over loopback, AF_UNIX socketpairs and pipes, watched by the
// epoll backend — and on the fake (Listen, Dial and Accept; Pair; Pipe),
// and compares what every step observes: the events a Wait reports, the
// errno of each call, the bytes each read returns. What still differs,
// and why, is in docs/guide-testing-with-fake.md.

// A world is a kernel the scripts run on. Descriptors are named in the
// scripts: "a" and "b" are the two ends of a connection (a the client's
// on TCP), "l" a TCP listener, "r" and "w" a pipe's ends.
type world interface {
	pair() (a, b int)   // an AF_UNIX socketpair
	pipe() (r, w int)   // a pipe
	socket() int        // a fresh TCP socket
	listen() int        // a TCP listener
	refused() int       // a TCP socket whose connect will be refused
	dial() (int, error) // connect to the listener
	accept(fd int) (int, error)
	read(fd, n int) ([]byte, error)
	write(fd int, p []byte) (int, error)
	shutdown(fd, how int) error
	close(fd int) error
	abort(fd int) error // close with a reset (SO_LINGER 0)
	sockErr(fd int) error
	watch(fd int, ev mux.Events) // add fd to the world's Multiplexer, with the world's modes
	rearm(fd int)                // Modify fd to the interest it was added with
	report() map[int]mux.Events  // what a Wait(0) reports
	settle()                     // let what is on its way arrive
	done()
}

// A script is what one test case does.
type script struct {
	name  string
	kinds []string // "tcp", "unix", "pipe"
	setup string   // "conn", "fresh", "refused", "pending", "listener", "pipe"
	steps string   // one step a line: "op fd [data]"
}

var scripts = []script{
	{"exchange", []string{"tcp", "unix"}, "conn", `
		events a
		read a
		write a ping
		events b
		read b
		write b pong
		read a
		events a
		sockerr a`},
	{"the peer writes and closes", []string{"tcp", "unix"}, "conn", `
		write b hello
		close b
		events a
		read a
		read a
		events a`},
	{"the first write after the peer closed", []string{"tcp", "unix"}, "conn", `
		close b
		events a
		write a x
		events a
		sockerr a
		events a
		read a
		write a y
		events a`},
	{"a write after the peer closed, its error left pending", []string{"tcp", "unix"}, "conn", `
		close b
		write a x
		read a
		events a
		write a y
		events a
		sockerr a`},
	{"a reset after the peer wrote", []string{"tcp", "unix"}, "conn", `
		write a req
		write b resp
		close b
		events a
		read a
		events a
		read a
		read a
		sockerr a
		write a x
		events a`},
	{"a reset with nothing unread", []string{"tcp", "unix"}, "conn", `
		write a req
		close b
		events a
		read a
		read a
		write a x
		events a`},
	{"a reset reaches a writer", []string{"tcp", "unix"}, "conn", `
		write a req
		close b
		write a x
		events a
		write a y
		read a`},
	{"an abortive close", []string{"tcp"}, "conn", `
		write b resp
		abort b
		events a
		sockerr a
		events a
		read a
		read a
		write a x`},
	{"the peer shuts its reading side", []string{"tcp", "unix"}, "conn", `
		shutdown b SHUT_RD
		events a
		events b
		write a x
		events a
		events b
		read b
		read b`},
	{"the peer shuts its reading side, then closes with data unread", []string{"tcp", "unix"}, "conn", `
		shutdown b SHUT_RD
		write a x
		close b
		events a
		read a
		read a
		write a y`},
	{"shutting down the writing side", []string{"tcp", "unix"}, "conn", `
		shutdown a SHUT_WR
		events a
		events b
		write a x
		read b
		write b y
		events a
		read a
		shutdown b SHUT_WR
		events a
		events b
		read a
		read b`},
	{"shutting down the reading side with data waiting", []string{"tcp", "unix"}, "conn", `
		write b data
		shutdown a SHUT_RD
		events a
		read a
		read a
		write b more
		events a
		read a`},
	{"SHUT_RDWR, then the peer writes", []string{"tcp", "unix"}, "conn", `
		shutdown a SHUT_RDWR
		events a
		events b
		read a
		write a x
		write b y
		events a
		read a
		read a
		events b`},
	{"the peer closed, then SHUT_WR", []string{"tcp", "unix"}, "conn", `
		close b
		events a
		shutdown a SHUT_WR
		events a
		sockerr a`},
	{"a fresh socket", []string{"tcp"}, "fresh", `
		events a
		read a
		write a x
		sockerr a
		shutdown a SHUT_WR`},
	{"a refused connect", []string{"tcp"}, "refused", `
		events a
		sockerr a
		events a
		read a
		write a x
		events a`},
	{"a refused connect, read first", []string{"tcp"}, "refused", `
		read a
		events a
		sockerr a
		read a
		write a x`},
	{"a refused connect, written first", []string{"tcp"}, "refused", `
		write a x
		events a
		write a y
		read a
		sockerr a`},
	{"a connect in progress", []string{"tcp"}, "listener", `
		events l
		dial a
		events a
		sockerr a
		events l
		accept b
		events l
		events b
		write a x
		read b`},
	{"a listener closed with a connection not accepted", []string{"tcp"}, "pending", `
		events l
		write a early
		close l
		events a
		sockerr a
		read a
		write a x`},
	{"accepting after the client wrote and closed", []string{"tcp"}, "pending", `
		write a hi
		close a
		accept b
		events b
		read b
		read b
		write b x
		events b
		write b y`},
	{"a pipe's writer closes", []string{"pipe"}, "pipe", `
		events r
		write w x
		events r
		close w
		events r
		read r
		read r`},
	{"a pipe's reader closes", []string{"pipe"}, "pipe", `
		events w
		close r
		events w
		write w x
		events w`},
}

func TestFidelity(t *testing.T) {
	for _, s := range scripts {
		for _, kind := range s.kinds {
			t.Run(kind+"/"+s.name, func(t *testing.T) {
				onLinux := run(t, newReal(t, 0), kind, s)
				fake := run(t, newFake(0), kind, s)
				steps := stepsOf(s.steps)
				for i := range steps {
					if fake[i] != onLinux[i] {
						t.Errorf("step %d, %s: fake %s; Linux %s", i+1, steps[i], fake[i], onLinux[i])
					}
				}
			})
		}
	}
}

func stepsOf(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

var hows = map[string]int{"SHUT_RD": fake.ShutRead, "SHUT_WR": fake.ShutWrite, "SHUT_RDWR": fake.ShutReadWrite}

// run runs s on w and returns what each step observed. Besides the calls,
// a step may be "events fd" (what a Wait(0) reports for fd), "wait" (what
// it reports for every descriptor, by name) and "rearm fd" (Modify to the
// interest fd was added with); "read fd n" reads at most n bytes.
func run(t *testing.T, w world, kind string, s script) []string {
	defer w.done()
	fds := setUp(w, kind, s.setup)
	var obs []string
	for _, line := range stepsOf(s.steps) {
		f := append(strings.Fields(line), "", "")
		op, fd := f[0], fds[f[1]]
		var o string
		switch op {
		case "events":
			o = w.report()[fd].String()
		case "wait":
			o = named(w.report(), fds)
		case "rearm":
			w.rearm(fd)
			o = "rearm"
		case "read":
			n := 64
			if f[2] != "" {
				n, _ = strconv.Atoi(f[2])
			}
			p, err := w.read(fd, n)
			o = fmt.Sprintf("read %q %v", p, err)
		case "write":
			n, err := w.write(fd, []byte(f[2]))
			o = fmt.Sprintf("write %d %v", n, err)
		case "shutdown":
			o = fmt.Sprint("shutdown ", w.shutdown(fd, hows[f[2]]))
		case "close":
			o = fmt.Sprint("close ", w.close(fd))
		case "abort":
			o = fmt.Sprint("abort ", w.abort(fd))
		case "sockerr":
			o = fmt.Sprint("sockerr ", w.sockErr(fd))
		case "dial", "accept":
			var nfd int
			var err error
			if op == "dial" {
				nfd, err = w.dial()
			} else {
				nfd, err = w.accept(fds["l"])
			}
			o = fmt.Sprint(op, " ", err)
			if err == nil {
				fds[f[1]] = nfd
				w.watch(nfd, mux.Readable|mux.Writable)
			}
		default:
			t.Fatalf("script %q: unknown step %q", s.name, line)
		}
		if op != "events" && op != "wait" && op != "read" && op != "sockerr" {
			w.settle()
		}
		obs = append(obs, o)
	}
	return obs
}

// named prints a report by the scripts' names of the descriptors, in the
// order of the names.
func named(got map[int]mux.Events, fds map[string]int) string {
	var names []string
	for name, fd := range fds {
		if got[fd] != 0 {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("[")
	for i, name := range names {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%v", name, got[fds[name]])
	}
	b.WriteString("]")
	return b.String()
}

// setUp makes the descriptors of a script's setup on w, added to its
// Multiplexer for Readable|Writable (a listener for Readable, a pipe's
// ends for what they can be).
func setUp(w world, kind, setup string) map[string]int {
	fds := map[string]int{}
	switch {
	case kind == "unix":
		fds["a"], fds["b"] = w.pair()
	case kind == "pipe":
		fds["r"], fds["w"] = w.pipe()
		w.watch(fds["r"], mux.Readable)
		w.watch(fds["w"], mux.Writable)
		return fds
	case setup == "fresh":
		fds["a"] = w.socket()
	case setup == "refused":
		fds["a"] = w.refused()
		w.settle()
	default:
		fds["l"] = w.listen()
		w.watch(fds["l"], mux.Readable)
		if setup == "listener" {
			return fds
		}
		fds["a"], _ = w.dial()
		w.settle()
		if setup == "conn" {
			fds["b"], _ = w.accept(fds["l"])
		}
	}
	for _, n := range []string{"a", "b"} {
		if fd, ok := fds[n]; ok {
			w.watch(fd, mux.Readable|mux.Writable)
		}
	}
	return fds
}

// linux is the real kernel, watched by the epoll backend.
type linux struct {
	t        *testing.T
	m        *epoll.Mux
	look     *epoll.Mux // level-triggered, for settle: it uses up no edge of m's
	modes    mux.Events // what watch adds to every interest
	interest map[int]mux.Events
	addr     unix.Sockaddr
	open     map[int]bool
	buf      []mux.Event
}

func newReal(t *testing.T, modes mux.Events) *linux {
	m, err := epoll.New()
	if err != nil {
		t.Fatalf("epoll.New() = %v", err)
	}
	look, err := epoll.New()
	if err != nil {
		t.Fatalf("epoll.New() = %v", err)
	}
	return &linux{t: t, m: m, look: look, modes: modes, interest: map[int]mux.Events{}, open: map[int]bool{}, buf: make([]mux.Event, 16)}
}

func (w *linux) socket() int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		w.t.Fatalf("socket: %v", err)
	}
	w.open[fd] = true
	return fd
}

func (w *linux) listen() int {
	l := w.socket()
	if err := unix.Bind(l, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		w.t.Fatalf("bind: %v", err)
	}
	if err := unix.Listen(l, 8); err != nil {
		w.t.Fatalf("listen: %v", err)
	}
	sa, err := unix.Getsockname(l)
	if err != nil {
		w.t.Fatalf("getsockname: %v", err)
	}
	w.addr = sa
	return l
}

// refused dials the port of a listener it has just closed.
func (w *linux) refused() int {
	w.close(w.listen())
	fd, _ := w.dial()
	return fd
}

func (w *linux) pair() (int, int) {
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		w.t.Fatalf("socketpair: %v", err)
	}
	w.open[p[0]], w.open[p[1]] = true, true
	return p[0], p[1]
}

func (w *linux) pipe() (int, int) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		w.t.Fatalf("pipe2: %v", err)
	}
	w.open[p[0]], w.open[p[1]] = true, true
	return p[0], p[1]
}

func (w *linux) watch(fd int, ev mux.Events) {
	w.interest[fd] = ev | w.modes
	if err := w.m.Add(fd, ev|w.modes); err != nil {
		w.t.Fatalf("Add(%d) = %v", fd, err)
	}
	if err := w.look.Add(fd, ev); err != nil {
		w.t.Fatalf("Add(%d) = %v", fd, err)
	}
}

func (w *linux) rearm(fd int) {
	if err := w.m.Modify(fd, w.interest[fd]); err != nil {
		w.t.Fatalf("Modify(%d) = %v", fd, err)
	}
}

func (w *linux) dial() (int, error) {
	fd := w.socket()
	err := unix.Connect(fd, w.addr)
	if err == unix.EINPROGRESS {
		err = nil
	}
	return fd, err
}

func (w *linux) read(fd, n int) ([]byte, error) {
	p := make([]byte, n)
	n, err := loop.OS().Read(fd, p)
	return p[:n], err
}

func (w *linux) write(fd int, p []byte) (int, error) { return loop.OS().Write(fd, p) }
func (w *linux) sockErr(fd int) error                { return loop.OS().SockErr(fd) }

func (w *linux) shutdown(fd, how int) error { return unix.Shutdown(fd, how) }

func (w *linux) close(fd int) error {
	w.m.Remove(fd)
	w.look.Remove(fd)
	delete(w.open, fd)
	return unix.Close(fd)
}

func (w *linux) abort(fd int) error {
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1}); err != nil {
		return err
	}
	return w.close(fd)
}

func (w *linux) accept(fd int) (int, error) {
	nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err == nil {
		w.open[nfd] = true
	}
	return nfd, err
}

// poll returns what a Wait(0) of m reports.
func (w *linux) poll(m *epoll.Mux) map[int]mux.Events {
	n, err := m.Wait(w.buf, 0)
	if err != nil {
		w.t.Fatalf("Wait = %v", err)
	}
	got := map[int]mux.Events{}
	for _, ev := range w.buf[:n] {
		got[ev.FD] = ev.Events
	}
	return got
}

func (w *linux) report() map[int]mux.Events { return w.poll(w.m) }

// settle waits until loopback has delivered what is on its way: until
// what the descriptors are ready for, level-triggered, has not changed
// for 5ms (at most a second).
func (w *linux) settle() {
	last, stable := w.poll(w.look), time.Now()
	for start := time.Now(); time.Since(stable) < 5*time.Millisecond && time.Since(start) < time.Second; {
		time.Sleep(time.Millisecond)
		if now := w.poll(w.look); !reflect.DeepEqual(now, last) {
			last, stable = now, time.Now()
		}
	}
}

func (w *linux) done() {
	for fd := range w.open {
		w.close(fd)
	}
	w.m.Close()
	w.look.Close()
}

// simulated is the fake kernel, with its Multiplexer.
type simulated struct {
	k        *fake.Kernel
	m        *fake.Mux
	modes    mux.Events // what watch adds to every interest
	interest map[int]mux.Events
	addr     string
	buf      []mux.Event
}

func newFake(modes mux.Events) *simulated {
	k := fake.New(fake.Config{BusyLoop: -1})
	m, _ := k.NewMux()
	return &simulated{k: k, m: m, modes: modes, interest: map[int]mux.Events{}, addr: "server:80", buf: make([]mux.Event, 16)}
}

func (w *simulated) pair() (int, int) {
	a, b, _ := w.k.Pair()
	return a, b
}

func (w *simulated) pipe() (int, int) {
	r, wr, _ := w.k.Pipe()
	return r, wr
}

func (w *simulated) socket() int {
	fd, _ := w.k.Socket()
	return fd
}

func (w *simulated) listen() int {
	fd, _ := w.k.Listen(w.addr)
	return fd
}

func (w *simulated) refused() int {
	fd, _ := w.k.Dial("nobody:80")
	return fd
}

func (w *simulated) watch(fd int, ev mux.Events) {
	w.interest[fd] = ev | w.modes
	w.m.Add(fd, ev|w.modes)
}

func (w *simulated) rearm(fd int)       { w.m.Modify(fd, w.interest[fd]) }
func (w *simulated) dial() (int, error) { return w.k.Dial(w.addr) }

func (w *simulated) read(fd, n int) ([]byte, error) {
	p := make([]byte, n)
	n, err := w.k.Read(fd, p)
	return p[:n], err
}

func (w *simulated) write(fd int, p []byte) (int, error) { return w.k.Write(fd, p) }
func (w *simulated) shutdown(fd, how int) error          { return w.k.Shutdown(fd, how) }

func (w *simulated) close(fd int) error {
	w.m.Remove(fd)
	return w.k.Close(fd)
}

// abort is Linux's close with SO_LINGER 0: the fake has no socket
// options, so it resets the connection and closes the descriptor.
func (w *simulated) abort(fd int) error {
	if err := w.k.Reset(fd); err != nil {
		return err
	}
	return w.close(fd)
}

func (w *simulated) sockErr(fd int) error       { return w.k.SockErr(fd) }
func (w *simulated) accept(fd int) (int, error) { return w.k.Accept(fd) }

func (w *simulated) report() map[int]mux.Events {
	n, _ := w.m.Wait(w.buf, 0)
	got := map[int]mux.Events{}
	for _, ev := range w.buf[:n] {
		got[ev.FD] = ev.Events
	}
	return got
}

func (w *simulated) settle() { w.k.Advance(10 * time.Millisecond) }
func (w *simulated) done()   { w.m.Close() }
