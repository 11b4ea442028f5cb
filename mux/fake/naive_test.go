package fake_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// The naive event loop of the blog post this project grew from, ported
// to Go against mux.Multiplexer and loop.Sys, and caught by the fake one
// bug at a time. docs/guide-testing-with-fake.md quotes this file.

// bug is one of the naive loop's bugs. Each is one line of naive; a loop
// run without it does there what a correct loop does.
type bug uint

const (
	noTimeout     bug = 1 << iota // Wait(-1): a server that never answers hangs the loop
	sendOnce                      // one write: the rest of a short write is lost
	sendUnchecked                 // the write's error ignored: a refused connect writes EPIPE for ever
	recvOnce                      // one read: a response that arrives in two parts is cut
	recvUnchecked                 // the read's result unchecked: end of file is read again and again
	maskOr                        // ev.Events|mux.Readable != 0 is always true
	breakAfterOne                 // only the first event of each batch is handled
	neverRemoved                  // descriptors closed without Remove
)

var bugNames = map[bug]string{
	noTimeout: "no timeout", sendOnce: "send once", sendUnchecked: "send unchecked",
	recvOnce: "recv once", recvUnchecked: "recv unchecked", maskOr: "mask | EPOLLIN",
	breakAfterOne: "break after one event", neverRemoved: "never removed",
}

// task is one request of the naive loop.
type task struct {
	fd   int
	req  []byte
	sent int
	resp []byte
	err  error
	done bool
}

// naive runs two tasks or more: each connects to addr, sends its request
// and receives a response of one line. bugs are the bugs it has.
func naive(m mux.Multiplexer, sys loop.Sys, addr string, reqs []string, bugs bug) ([]*task, error) {
	has := func(b bug) bool { return bugs&b != 0 }
	var tasks []*task
	byFD := map[int]*task{}
	for _, req := range reqs {
		fd, err := sys.Dial(addr)
		if err != nil {
			return tasks, err
		}
		if err := m.Add(fd, mux.Writable); err != nil {
			return tasks, err
		}
		t := &task{fd: fd, req: []byte(req)}
		tasks = append(tasks, t)
		byFD[fd] = t
	}
	left := len(tasks)
	finish := func(t *task, err error) {
		t.err, t.done = err, true
		if !has(neverRemoved) {
			m.Remove(t.fd)
		}
		sys.Close(t.fd)
		delete(byFD, t.fd)
		left--
	}
	send := func(t *task) {
		n, err := sys.Write(t.fd, t.req[t.sent:])
		if !has(sendUnchecked) && err != nil && err != syscall.EAGAIN {
			finish(t, err)
			return
		}
		t.sent += n
		if has(sendOnce) || t.sent == len(t.req) {
			m.Modify(t.fd, mux.Readable)
		}
	}
	recv := func(t *task) {
		buf := make([]byte, 1024)
		n, err := sys.Read(t.fd, buf)
		if !has(recvUnchecked) {
			switch {
			case err == syscall.EAGAIN:
				return // readiness is a hint: wait again
			case err != nil:
				finish(t, err)
				return
			case n == 0:
				finish(t, io.ErrUnexpectedEOF)
				return
			}
		}
		t.resp = append(t.resp, buf[:n]...)
		if has(recvOnce) || bytes.HasSuffix(t.resp, []byte("\n")) {
			finish(t, nil)
		}
	}
	deadline := sys.Now().Add(time.Second)
	events := make([]mux.Event, 8)
	for left > 0 {
		timeout := time.Duration(-1)
		if !has(noTimeout) {
			if timeout = deadline.Sub(sys.Now()); timeout <= 0 {
				for _, t := range tasks {
					if !t.done {
						finish(t, errTimeout)
					}
				}
				break
			}
		}
		n, err := m.Wait(events, timeout)
		if err != nil {
			return tasks, err
		}
		for _, ev := range events[:n] {
			t := byFD[ev.FD]
			if t == nil {
				continue
			}
			readable := ev.Events.Any(mux.Readable)
			if has(maskOr) {
				readable = ev.Events|mux.Readable != 0 // always true: the bug
			}
			switch {
			case readable:
				recv(t)
			case ev.Events.Any(mux.Writable):
				send(t)
			}
			if has(breakAfterOne) {
				break
			}
		}
	}
	return tasks, nil
}

var errTimeout = errors.New("timed out")

// apiServer serves addr on k: each connection gets one request line,
// "GET /name", and answers "hello name" — except for a few names that
// provoke what a loop must survive.
func apiServer(k *fake.Kernel, addr string) {
	k.Serve(addr, func(fd int) fake.Handler {
		var req, out []byte
		answered := false
		return func(fd int, ev mux.Events) {
			buf := make([]byte, 512)
			for n, err := k.Read(fd, buf); n > 0 && err == nil; n, err = k.Read(fd, buf) {
				req = append(req, buf[:n]...)
			}
			if line, ok := bytes.CutSuffix(req, []byte("\n")); ok && !answered {
				answered = true
				switch name := strings.TrimPrefix(string(line), "GET /"); name {
				case "never": // reads the request and never answers
				case "hangup": // hangs up without answering
					k.Close(fd)
					return
				case "split": // the header now, the body 5ms later
					k.Write(fd, []byte("hello "))
					k.SetDelay(fd, 5*time.Millisecond, 0)
					out = []byte("split\n")
				case "slow": // the whole answer 50ms later
					k.SetDelay(fd, 50*time.Millisecond, 0)
					out = []byte("hello slow\n")
				case "big": // 200 KB: more than one buffer full, written as room appears
					out = append(bytes.Repeat([]byte("x"), 200<<10), '\n')
				default:
					out = []byte("hello " + name + "\n")
				}
			}
			for len(out) > 0 {
				n, err := k.Write(fd, out)
				out = out[n:]
				if err != nil {
					break
				}
			}
			if ev.Has(mux.ReadHangup) {
				k.Close(fd)
			}
		}
	})
}

// A scenario provokes one bug: run without the bug, the loop ends as
// want says; with it, the fake catches it.
type scenario struct {
	bug    bug
	paths  [2]string
	faults func(m *fake.Mux) fake.Faults // the fault that provokes the bug, if one does
	want   string
}

var scenarios = []scenario{
	{noTimeout, [2]string{"a", "never"}, nil, `"hello a\n"; error: timed out`},
	{sendOnce, [2]string{"a", "b"}, func(m *fake.Mux) fake.Faults {
		return fake.Faults{ShortWrite: 1, Nth: 1, Mux: m} // the loop's first write is short
	}, `"hello a\n"; "hello b\n"`},
	{sendUnchecked, [2]string{"a", "b"}, func(m *fake.Mux) fake.Faults {
		return fake.Faults{Refuse: 1, Nth: 1} // the first connect is refused
	}, `error: connection refused; "hello b\n"`},
	{recvOnce, [2]string{"a", "split"}, nil, `"hello a\n"; "hello split\n"`},
	{recvUnchecked, [2]string{"a", "hangup"}, nil, `"hello a\n"; error: unexpected EOF`},
	{maskOr, [2]string{"a", "b"}, nil, `"hello a\n"; "hello b\n"`},
	{breakAfterOne, [2]string{"big", "big"}, nil, `204801 bytes; 204801 bytes`},
	{neverRemoved, [2]string{"a", "slow"}, nil, `"hello a\n"; "hello slow\n"`},
}

// runNaive runs the naive loop with bugs on a kernel seeded with seed,
// against apiServer, and sums up how it ended: the error of its Wait, or
// each task's response or error.
func runNaive(seed uint64, s scenario, bugs bug) string {
	k := fake.New(fake.Config{Seed: seed})
	apiServer(k, "api:80")
	m, _ := k.NewMux()
	defer m.Close()
	benign := fake.Faults{Spurious: 0.1, EarlyWake: 0.2, Mux: m} // a correct loop survives these
	if s.faults != nil {
		benign = s.faults(m)
	}
	k.SetFaults(benign)
	tasks, err := naive(m, k, "api:80", []string{"GET /" + s.paths[0] + "\n", "GET /" + s.paths[1] + "\n"}, bugs)
	var op *mux.OpError
	if errors.As(err, &op) {
		return fmt.Sprintf("%s failed: %T", op.Op, op.Err)
	} else if err != nil {
		return "failed: " + err.Error()
	}
	var out []string
	for _, t := range tasks {
		switch {
		case t.err != nil:
			out = append(out, "error: "+t.err.Error())
		case len(t.resp) > 64:
			out = append(out, fmt.Sprintf("%d bytes", len(t.resp)))
		default:
			out = append(out, fmt.Sprintf("%q", t.resp))
		}
	}
	return strings.Join(out, "; ")
}

// TestNaiveLoop: the fake catches each bug of the naive loop on its own,
// the same way under every seed, and the loop without them passes.
func TestNaiveLoop(t *testing.T) {
	for _, s := range scenarios {
		t.Run(bugNames[s.bug], func(t *testing.T) {
			verdicts := map[string]bool{}
			fake.Seeds(t, 50, func(t *testing.T, seed uint64) {
				synctest.Test(t, func(t *testing.T) {
					if got := runNaive(seed, s, 0); got != s.want {
						t.Errorf("the loop without bugs ended with %s; want %s", got, s.want)
					}
					got := runNaive(seed, s, s.bug)
					if got == s.want {
						t.Errorf("the loop with the bug %q ended as a correct one would (%s): the fake did not catch it", bugNames[s.bug], got)
					}
					verdicts[got] = true
				})
			})
			if len(verdicts) != 1 {
				t.Errorf("the loop with the bug %q ended in %d ways over the seeds: %v; want one", bugNames[s.bug], len(verdicts), verdicts)
			}
		})
	}
}
