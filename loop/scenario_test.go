package loop_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// request returns the i-th request of a scenario: a line of a size that
// varies from a few bytes to tens of kilobytes, so that large ones take
// several partial writes and reads.
func request(i int) []byte {
	size := 1 + (i*7919)%40000
	b := make([]byte, size+1)
	for j := range size {
		b[j] = 'a' + byte((i+j)%26)
	}
	b[size] = '\n'
	return b
}

// outcome is what a scenario saw.
type outcome struct {
	mu       sync.Mutex
	ok       int      // clients that got their request back
	failed   []string // clients that failed, and why
	wrong    []string // clients that got other bytes: never acceptable
	servers  int      // server connections finished without error
	sfailed  []string // server connections that failed
	listener int      // listener results (once, at stop)
}

func (o *outcome) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Sprintf("%d ok, %d failed %v, %d wrong %v; servers %d ok, %d failed %v",
		o.ok, len(o.failed), head(o.failed), len(o.wrong), head(o.wrong), o.servers, len(o.sfailed), head(o.sfailed))
}

func head(s []string) []string { return s[:min(len(s), 5)] }

// scenario serves an echo server on addr and runs n client exchanges
// against it, through l. It stops the loop when every client is done; the
// caller runs l.Run.
type scenario struct {
	l       *loop.Loop
	addr    string
	n       int
	timeout time.Duration // of each exchange and server connection; 0 for none
	out     *outcome
	left    int // clients not finished; only touched by callbacks on the loop goroutine
	stop    bool
	watch   func(loop.Stats)
}

func (sc *scenario) serve(lfd int) error {
	return sc.l.Serve(lfd, func(now time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{Timeout: sc.timeout}, now)
		return &s
	}, func(r loop.Result) {
		sc.out.mu.Lock()
		defer sc.out.mu.Unlock()
		switch {
		case r.Task == nil:
			sc.out.listener++
		case r.Err != nil:
			sc.out.sfailed = append(sc.out.sfailed, fmt.Sprintf("fd %d: %v", r.FD, r.Err))
		default:
			sc.out.servers++
		}
	})
}

func (sc *scenario) dial(i int) error {
	req := request(i)
	sc.left++
	return sc.l.Dial(sc.addr, func(now time.Time) loop.Task {
		c := statemachine.NewClient(statemachine.ClientConfig{
			Request: req,
			Framing: statemachine.Line,
			Timeout: sc.timeout,
		}, now)
		return &c
	}, func(r loop.Result) {
		sc.out.mu.Lock()
		switch c := r.Task.(*statemachine.Client); {
		case r.Err != nil:
			sc.out.failed = append(sc.out.failed, fmt.Sprintf("client %d (fd %d): %v", i, r.FD, r.Err))
		case !bytes.Equal(c.Response(), req):
			sc.out.wrong = append(sc.out.wrong, fmt.Sprintf("client %d: got %d bytes %.20q…; want %d bytes %.20q…",
				i, len(c.Response()), c.Response(), len(req), req))
		default:
			sc.out.ok++
		}
		sc.out.mu.Unlock()
		if sc.watch != nil {
			sc.watch(sc.l.Stats())
		}
		sc.left--
		if sc.left == 0 && sc.stop {
			sc.l.Stop()
		}
	})
}

// checkAll fails t unless every one of n clients and its server
// connection succeeded.
func (o *outcome) checkAll(t *testing.T, n int) {
	t.Helper()
	o.mu.Lock()
	ok, servers, failures := o.ok, o.servers, len(o.failed)+len(o.wrong)+len(o.sfailed)
	o.mu.Unlock()
	if ok != n || servers != n || failures != 0 {
		t.Errorf("after %d exchanges: %v; want %d ok clients and %d ok server connections, no failures", n, o, n, n)
	}
}

// setup describes a run of the scenario.
type setup struct {
	m        mux.Multiplexer
	sys      loop.Sys
	addr     string               // where the server listens: "127.0.0.1:0" for the OS
	resolve  func(lfd int) string // for the OS: the address the listener got
	n        int                  // exchanges
	maxTasks int
	limit    time.Duration    // of real time, after which the loop is stopped hard
	watch    func(loop.Stats) // called after each client finishes
}

// run runs the scenario described by su and returns what it saw.
func run(t *testing.T, su setup) (*outcome, *loop.Loop) {
	t.Helper()
	l, err := loop.New(loop.Config{Mux: su.m, Sys: su.sys, MaxTasks: su.maxTasks, Events: 16})
	if err != nil {
		t.Fatalf("loop.New = %v; want a loop", err)
	}
	lfd, err := su.sys.Listen(su.addr)
	if err != nil {
		t.Fatalf("Listen(%q) = %v", su.addr, err)
	}
	addr := su.addr
	if su.resolve != nil {
		addr = su.resolve(lfd)
	}
	sc := &scenario{l: l, addr: addr, n: su.n, out: &outcome{}, timeout: time.Minute, stop: true, watch: su.watch}
	if err := sc.serve(lfd); err != nil {
		t.Fatalf("Serve = %v; want nil", err)
	}
	for i := range su.n {
		if err := sc.dial(i); err != nil {
			t.Fatalf("Dial #%d = %v; want nil", i, err)
		}
	}
	if su.limit == 0 {
		su.limit = time.Minute
	}
	watchdog := time.AfterFunc(su.limit, func() {
		t.Errorf("the scenario did not finish within %v; stopping the loop hard", su.limit)
		l.Shutdown(canceled())
	})
	defer watchdog.Stop()
	if err := l.Run(); err != nil {
		t.Errorf("Run() = %v; want nil after a graceful stop", err)
	}
	return sc.out, l
}
