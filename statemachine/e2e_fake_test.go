package statemachine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

// The machines end to end on the fake kernel: client exchanges against
// server connections, driven by package loop, first under random faults
// from the kernel's seed (the chaos phase), then with the faults off (the
// liveness phase).

// chaosFaults are the faults of the chaos phase. The first group a correct
// loop survives without losing an exchange; the second (Reset, Refuse,
// Reuse) fails some exchanges, which must then fail with a clean error.
var chaosFaults = fake.Faults{
	// Per added descriptor per Wait: kept low, because virtual time moves
	// only when nothing is ready, and connects complete only when it
	// moves.
	Spurious:   0.005,
	Again:      0.1,
	ShortRead:  0.4,
	ShortWrite: 0.4,
	Split:      0.3,
	Truncate:   0.3,
	EarlyWake:  0.2,

	Reset:  0.002,
	Refuse: 0.05,
	Reuse:  0.01,
}

// cleanFailure reports whether err is one an exchange may fail with when
// the connection under it was reset, refused or taken away (its number
// reused by a socket that is not connected: ENOTCONN).
func cleanFailure(err error) bool {
	for _, e := range []error{syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.EPIPE, syscall.ENOTCONN,
		statemachine.ErrDeadline, statemachine.ErrPeerClosed, io.ErrUnexpectedEOF} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

const (
	chaosExchanges    = 60
	livenessExchanges = 40
	exchangeTimeout   = 10 * time.Second // virtual time
	serviceAddr       = "echo:7"
)

// e2eRequest is the request of exchange i: one to four lines, of 1 to
// about 20000 bytes in all. The server echoes each line as it completes,
// so it is often both readable and writable (and the Split fault has
// something to split); the client expects the whole request back.
func e2eRequest(i int) []byte {
	n := 1 + (i*7919)%20000
	b := bytes.Repeat([]byte{'a' + byte(i%26)}, n)
	lines := 1 + i%4
	for j := 1; j <= lines; j++ {
		b[j*(n-1)/lines] = '\n'
	}
	b[n-1] = '\n'
	return b
}

// e2eRun is the outcome of one seeded run.
type e2eRun struct {
	chaosOK, chaosFailed int
	livenessOK           int
	failures             map[string]int // chaos-phase errors, by message
	problems             []string       // what the test must report
	hash                 uint64
	fired                map[string]int
	relistens            int
}

// runE2E runs both phases on a kernel seeded with seed, in one goroutine,
// so that the run is a function of the seed.
func runE2E(t *testing.T, seed uint64) *e2eRun {
	t.Helper()
	k := fake.New(fake.Config{Seed: seed, Shuffle: true, Faults: chaosFaults})
	m, err := k.NewMux()
	if err != nil {
		t.Fatalf("NewMux() = %v", err)
	}
	defer m.Close()
	sys := k
	l, err := loop.New(loop.Config{Mux: m, Sys: sys, Events: 8})
	if err != nil {
		t.Fatalf("loop.New = %v", err)
	}
	res := &e2eRun{failures: map[string]int{}}
	problem := func(format string, args ...any) {
		if len(res.problems) < 20 {
			res.problems = append(res.problems, fmt.Sprintf(format, args...))
		}
	}

	// The server: a listener of echoing ServerConns. The Reuse fault may
	// take the listener's number away; a supervisor listens again.
	var serve func()
	serve = func() {
		lfd, err := sys.Listen(serviceAddr)
		if err != nil {
			problem("Listen(%q) = %v", serviceAddr, err)
			return
		}
		err = l.Serve(lfd, func(now time.Time) loop.Task {
			s := statemachine.NewServerConn(statemachine.ServerConfig{Timeout: exchangeTimeout}, now)
			return &s
		}, func(r loop.Result) {
			if r.Task == nil && r.Err != nil {
				res.relistens++
				serve()
			}
			if sc, ok := r.Task.(*statemachine.ServerConn); ok && r.Err != nil && sc.State() != statemachine.Failed {
				problem("server fd %d ended with %v in state %v; want state Failed", r.FD, r.Err, sc.State())
			}
		})
		if err != nil && !errors.Is(err, loop.ErrStopped) {
			problem("Serve = %v", err)
		}
	}
	serve()

	left := 0
	var dial func(i int, liveness bool)
	startLiveness := func() {
		k.SetFaults(fake.Faults{})
		for i := range livenessExchanges {
			dial(chaosExchanges+i, true)
		}
	}
	dial = func(i int, liveness bool) {
		req := e2eRequest(i)
		left++
		err := l.Dial(serviceAddr, func(now time.Time) loop.Task {
			c := statemachine.NewClient(statemachine.ClientConfig{
				Request: req, Framing: statemachine.FixedLength(len(req)), Timeout: exchangeTimeout,
			}, now)
			return &c
		}, func(r loop.Result) {
			left--
			c := r.Task.(*statemachine.Client)
			switch {
			case r.Err == nil && !bytes.Equal(c.Response(), req):
				problem("exchange %d: response of %d bytes differs from its %d-byte request", i, len(c.Response()), len(req))
			case r.Err == nil && liveness:
				res.livenessOK++
			case r.Err == nil:
				res.chaosOK++
			case liveness:
				problem("liveness exchange %d (fd %d) failed: %v; want success with the faults off", i, r.FD, r.Err)
			case !cleanFailure(r.Err):
				problem("chaos exchange %d (fd %d) failed with %v; want success or a reset, refusal or deadline", i, r.FD, r.Err)
			default:
				res.chaosFailed++
				res.failures[r.Err.Error()]++
			}
			if c.State() != statemachine.Done && c.State() != statemachine.Failed {
				problem("exchange %d finished in state %v; want Done or Failed", i, c.State())
			}
			if left == 0 && !liveness {
				startLiveness()
			} else if left == 0 {
				l.Stop()
			}
		})
		if err != nil {
			problem("Dial #%d = %v", i, err)
		}
	}
	for i := range chaosExchanges {
		dial(i, false)
	}

	watchdog := time.AfterFunc(time.Minute, func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		l.Shutdown(ctx)
	})
	defer watchdog.Stop()
	if err := l.Run(); err != nil {
		problem("Run() = %v; want nil", err)
	}
	if !watchdog.Stop() {
		problem("the run did not finish within a minute of real time; stopped hard")
	}
	if err := k.BusyLoop(); err != nil {
		problem("BusyLoop() = %v; want nil", err)
	}
	if d, _ := k.Descriptors(); len(d) != 1 {
		problem("Descriptors() = %v after the run; want only the Multiplexer's (the loop closes every descriptor)", d)
	}
	res.hash = k.TraceHash()
	res.fired = k.Fired()
	return res
}

func TestE2EFakeChaosThenLiveness(t *testing.T) {
	seeds := make([]uint64, 20)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	if testing.Short() {
		seeds = seeds[:4]
	}
	fired := map[string]int{}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := runE2E(t, seed)
			for _, p := range r.problems {
				t.Error(p)
			}
			if r.chaosOK+r.chaosFailed != chaosExchanges {
				t.Errorf("chaos phase: %d ok + %d failed cleanly; want all %d accounted for", r.chaosOK, r.chaosFailed, chaosExchanges)
			}
			if r.livenessOK != livenessExchanges {
				t.Errorf("liveness phase: %d of %d exchanges succeeded; want all", r.livenessOK, livenessExchanges)
			}
			t.Logf("chaos: %d ok, %d failed %v; liveness: %d ok; listened again %d times; faults fired %v",
				r.chaosOK, r.chaosFailed, r.failures, r.livenessOK, r.relistens, r.fired)
			for f, n := range r.fired {
				fired[f] += n
			}

			again := runE2E(t, seed)
			if again.hash != r.hash {
				t.Errorf("seed %d: TraceHash = %#x, then %#x; want the same seed to give the same run", seed, r.hash, again.hash)
			}
		})
	}
	for _, f := range []string{"spurious", "again", "short-read", "short-write", "split", "truncate", "early-wake", "reset", "refuse", "reuse"} {
		if fired[f] == 0 {
			t.Errorf("fault %q never fired over %d seeds; want every chaos fault exercised", f, len(seeds))
		}
	}
}
