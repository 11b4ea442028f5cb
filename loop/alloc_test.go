package loop

import (
	"runtime"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

// newFakeLoop returns a fake kernel, a Multiplexer of it, closed when t
// ends, and a loop over both.
func newFakeLoop(t *testing.T) (*fake.Kernel, *fake.Mux, *Loop) {
	t.Helper()
	k := fake.New(fake.Config{Seed: 1})
	m, err := k.NewMux()
	if err != nil {
		t.Fatalf("NewMux() = %v", err)
	}
	t.Cleanup(func() { m.Close() })
	l, err := New(Config{Mux: m, Sys: k})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	return k, m, l
}

// TestNoAllocationPerEvent measures one steady round trip through the
// loop's dispatch: the peer writes a line, one Wait reports it, the loop
// drives the ServerConn (read, queue the echo, write), and the peer reads
// the echo. Neither the loop nor the machine nor the fake may allocate
// once warmed up.
func TestNoAllocationPerEvent(t *testing.T) {
	k, m, l := newFakeLoop(t)
	a, b, _ := k.Pair()
	s := statemachine.NewServerConn(statemachine.ServerConfig{Timeout: time.Hour}, l.Now()) // a deadline: the heap is in play
	l.register(b, &s, nil)
	ping := []byte("ping\n")
	got := make([]byte, 64)
	var fail string
	step := func() {
		k.Write(a, ping)
		for range 2 { // the read and the write may come in one event or two
			n, err := m.Wait(l.events, 0)
			if err != nil {
				fail = "Wait: " + err.Error()
				return
			}
			l.dispatch(n)
			l.tick()
		}
		if n, _ := k.Read(a, got); string(got[:n]) != "ping\n" && fail == "" {
			fail = "echo " + string(got[:n])
		}
	}
	for range 100 {
		step() // warm up: buffers grow to their steady size
	}
	allocs := testing.AllocsPerRun(1000, step)
	if fail != "" {
		t.Fatalf("round trip failed: %s; want the line echoed", fail)
	}
	if allocs != 0 {
		t.Errorf("a steady round trip allocated %v times; want 0", allocs)
	}
}

// TestNoAllocationPerRequest serves a peer from Run itself, on the fake:
// the peer writes a line and waits for its echo, while the loop blocks in
// Wait, is woken by the line, serves it, yields and blocks again.
// Nothing in the round trip, in the loop's goroutine or the peer's, may
// allocate once warmed up.
func TestNoAllocationPerRequest(t *testing.T) {
	k, _, l := newFakeLoop(t)
	a, b, _ := k.Pair()
	s := statemachine.NewServerConn(statemachine.ServerConfig{IdleTimeout: -1}, l.Now()) // no deadline: the loop blocks in real time
	if err := l.Submit(b, &s, nil); err != nil {
		t.Fatalf("Submit = %v", err)
	}
	ran := make(chan error, 1)
	go func() { ran <- l.Run() }()
	defer func() {
		l.Stop()
		k.Close(a) // the ServerConn reads end of file and finishes: Run returns
		if err := <-ran; err != nil {
			t.Errorf("Run() = %v; want nil", err)
		}
	}()
	ping := []byte("ping\n")
	got := make([]byte, 64)
	var fail string
	step := func() {
		k.Write(a, ping)
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, _ := k.Read(a, got)
			if n > 0 {
				if string(got[:n]) != "ping\n" && fail == "" {
					fail = "echo " + string(got[:n])
				}
				return
			}
			if time.Now().After(deadline) {
				fail = "no echo within 10s"
				return
			}
			runtime.Gosched()
		}
	}
	for range 100 {
		step()
	}
	allocs := testing.AllocsPerRun(1000, step)
	if fail != "" {
		t.Fatalf("round trip failed: %s; want the line echoed", fail)
	}
	if allocs != 0 {
		t.Errorf("a steady round trip through Run allocated %v times; want 0", allocs)
	}
}
