package fake_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// benign are faults a correct loop survives without losing a connection.
var benign = fake.Faults{
	Spurious:   0.2,
	Again:      0.1,
	ShortRead:  0.3,
	ShortWrite: 0.3,
	Split:      0.3,
	Truncate:   0.3,
	EarlyWake:  0.2,
}

func TestEchoLoop(t *testing.T) {
	k := fake.New(fake.Config{Buffer: 1024})
	res := runEcho(k, 5, 5000)
	if res.ok != 5 || len(res.errs) > 0 {
		t.Fatalf("echo loop without faults: %d of 5 clients done, errors %q; want all 5, none", res.ok, res.errs)
	}
	if err := k.BusyLoop(); err != nil {
		t.Fatalf("BusyLoop() on a correct loop = %v; want nil", err)
	}
}

func TestSameSeedSameTrace(t *testing.T) {
	cfg := fake.Config{Seed: 42, Buffer: 1024, Shuffle: true, Faults: benign}
	run := func(k *fake.Kernel) {
		if res := runEcho(k, 5, 5000); res.ok != 5 {
			t.Fatalf("seed %d: echo loop with benign faults: %d of 5 clients done, errors %q; want all 5", cfg.Seed, res.ok, res.errs)
		}
	}
	if d := fake.RunTwice(cfg, run); d != nil {
		t.Fatalf("same seed 42 run twice: %v", d)
	}
	hash := func(seed uint64) (uint64, map[string]int) {
		cfg.Seed = seed
		k := fake.New(cfg)
		run(k)
		return k.TraceHash(), k.Fired()
	}
	h1, fired := hash(42)
	for _, f := range []string{"spurious", "again", "short-read", "short-write", "split", "truncate"} {
		if fired[f] == 0 {
			t.Errorf("fault %q never fired in the seeded run (fired: %v); want each switched-on fault exercised", f, fired)
		}
	}
	if h3, _ := hash(43); h3 == h1 {
		t.Errorf("seeds 42 and 43 gave the same hash %#x; want the seed to change the run", h1)
	}
}

func TestOrderDeterministicByDefault(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	var fds []int
	for range 5 {
		a, b := mustPair(t, k)
		k.Write(b, []byte("x"))
		fds = append(fds, a)
	}
	for i := len(fds) - 1; i >= 0; i-- {
		mustAdd(t, m, fds[i], mux.Readable)
	}
	evs := make([]mux.Event, 8)
	n, _ := m.Wait(evs, 0)
	for i := range n {
		if evs[i].FD != fds[i] {
			t.Fatalf("batch %v; want ascending descriptor order %v", evs[:n], fds)
		}
	}
}

func TestTraceRecordsCalls(t *testing.T) {
	k := fake.New(fake.Config{Trace: 4})
	a, b := mustPair(t, k)
	k.Write(b, []byte("abc"))
	k.Read(a, make([]byte, 8))
	k.Read(a, make([]byte, 8))
	k.Close(a)
	tr := k.Trace()
	var ops []string
	for _, r := range tr {
		ops = append(ops, r.Op)
	}
	if got, want := fmt.Sprint(ops), "[write read read close]"; got != want {
		t.Fatalf("Trace() with room for 4 = %s; want the last 4 calls %s", got, want)
	}
	if r := tr[1]; r.FD != a || r.Arg != 8 || r.N != 3 || r.Err != nil || r.Seq != 3 {
		t.Errorf("record of the first Read = %v; want seq 3, fd %d, 8 asked, 3 read, no error", r, a)
	}
	if r := tr[2]; r.Err != syscall.EAGAIN {
		t.Errorf("record of the second Read = %v; want EAGAIN", r)
	}
}
