package loop

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

// TestMain runs the package's tests twice: as written, then with every
// loop whose Multiplexer keeps edge-triggered registrations (the fake,
// epoll) edge-triggered, as Config.EdgeTriggered makes it. The same
// tests, tasks and faults, in both modes: a loop that leaves a descriptor
// before EAGAIN under edges hangs, and the fake fails the test naming it.
// (testing.M.Run may be called more than once: go.dev/issue/23129.)
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		fmt.Println("the same tests again, every loop edge-triggered where its Multiplexer keeps the mode:")
		edgeByDefault = true
		flag.Set("test.bench", "") // the benchmarks name their modes: once is enough
		code = m.Run()
	}
	os.Exit(code)
}

// countingMux counts the registration calls that reach a Multiplexer:
// on epoll, each is an epoll_ctl.
type countingMux struct {
	*fake.Mux
	adds, modifies int
}

func (c *countingMux) Add(fd int, ev mux.Events) error    { c.adds++; return c.Mux.Add(fd, ev) }
func (c *countingMux) Modify(fd int, ev mux.Events) error { c.modifies++; return c.Mux.Modify(fd, ev) }

// TestEdgeTriggeredRegistersOnce serves echoes to a peer that reads
// slowly (16 bytes of receive buffer), so that every 64-byte response
// falls short and the ServerConn waits for Writable, then for Readable
// again. Level-triggered, that costs Modifies on every request;
// edge-triggered, the descriptor is added once and never modified.
func TestEdgeTriggeredRegistersOnce(t *testing.T) {
	defer func(v bool) { edgeByDefault = v }(edgeByDefault)
	edgeByDefault = false
	const requests = 20
	line := append(bytes.Repeat([]byte("e"), 63), '\n')
	for _, edge := range []bool{false, true} {
		k := fake.New(fake.Config{Seed: 1})
		fm, err := k.NewMux()
		if err != nil {
			t.Fatal(err)
		}
		m := &countingMux{Mux: fm}
		l, err := New(Config{Mux: m, Sys: k, EdgeTriggered: edge})
		if err != nil {
			t.Fatal(err)
		}
		a, b, _ := k.Pair()
		k.SetReceiveBuffer(a, 16)
		s := statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: -1}, l.Now())
		l.register(b, &s, nil)
		buf := make([]byte, 64)
		for i := range requests {
			k.Write(a, line)
			got := 0
			for turns := 0; got < len(line); turns++ {
				if turns == 100 {
					t.Fatalf("edge-triggered %v, request %d: %d of %d bytes echoed after %d turns of the loop; want the whole line", edge, i+1, got, len(line), turns)
				}
				n, err := m.Wait(l.events, 0)
				if err != nil {
					t.Fatal(err)
				}
				l.dispatch(n)
				l.resume()
				n, _ = k.Read(a, buf)
				got += max(n, 0)
			}
		}
		fm.Close()
		t.Logf("edge-triggered %v: %d Add and %d Modify for %d requests, each answered in short writes", edge, m.adds, m.modifies, requests)
		switch {
		case edge && (m.adds != 1 || m.modifies != 0):
			t.Errorf("edge-triggered: %d Add and %d Modify for %d requests; want 1 and 0: the descriptor is registered once for its life", m.adds, m.modifies, requests)
		case !edge && m.modifies < 2*requests:
			t.Errorf("level-triggered: %d Modify for %d requests answered in short writes; want at least 2 each (Writable asked for, then dropped): else this test does not exercise backpressure", m.modifies, requests)
		}
	}
}

// TestShortReadsAndWrites serves echoes with reads and writes cut short
// at random: in both modes every exchange completes. Edge-triggered, the
// loop takes a short read for a drain, as it may on Linux; the fake's
// short-read fault must not strand it.
func TestShortReadsAndWrites(t *testing.T) {
	fake.Seeds(t, 20, func(t *testing.T, seed uint64) {
		k := fake.New(fake.Config{Seed: seed, Faults: fake.Faults{ShortRead: 0.5, ShortWrite: 0.5}})
		m, err := k.NewMux()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		l, err := New(Config{Mux: m, Sys: k, ReadBuffer: 64})
		if err != nil {
			t.Fatal(err)
		}
		lfd, err := k.Listen("echo:7")
		if err != nil {
			t.Fatal(err)
		}
		l.Serve(lfd, func(now time.Time) Task {
			s := statemachine.NewServerConn(statemachine.ServerConfig{}, now)
			return &s
		}, nil)
		msg := bytes.Repeat([]byte("0123456789abcdef"), 40)
		msg[len(msg)-1] = '\n'
		const clients = 4
		left := clients
		for range clients {
			l.Dial("echo:7", func(now time.Time) Task {
				c := statemachine.NewClient(statemachine.ClientConfig{Request: msg, Framing: statemachine.Line, Timeout: time.Second}, now)
				return &c
			}, func(r Result) {
				if got := r.Task.(*statemachine.Client).Response(); r.Err != nil || !bytes.Equal(got, msg) {
					t.Errorf("edge-triggered %v: exchange ended with %v and %d of %d bytes echoed; want the whole line back", l.edge, r.Err, len(got), len(msg))
				}
				if left--; left == 0 {
					l.Stop()
				}
			})
		}
		if err := l.Run(); err != nil {
			t.Fatalf("edge-triggered %v: Run = %v; want nil", l.edge, err)
		}
		if left != 0 {
			t.Fatalf("edge-triggered %v: %d of %d exchanges never ended", l.edge, left, clients)
		}
	})
}
