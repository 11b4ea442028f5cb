package loop

import (
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

// TestNoAllocationPerEvent measures one steady round trip through the
// loop's dispatch: the peer writes a line, one Wait reports it, the loop
// drives the ServerConn (read, queue the echo, Modify to Writable, write,
// Modify back), and the peer reads the echo. Neither the loop nor the
// machine nor the fake may allocate once warmed up.
func TestNoAllocationPerEvent(t *testing.T) {
	k := fake.New(fake.Config{Seed: 1})
	m, err := k.NewMux()
	if err != nil {
		t.Fatalf("NewMux() = %v", err)
	}
	defer m.Close()
	l, err := New(Config{Mux: m, Sys: k})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
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
