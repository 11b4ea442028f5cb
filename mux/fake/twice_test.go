package fake_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// TestRunTwiceFindsFirstDivergence: a scenario that keeps state from one
// run to the next writes two connections in one order, then in the
// other. RunTwice names the first write, both versions of it, and what
// the difference suggests.
func TestRunTwiceFindsFirstDivergence(t *testing.T) {
	runs := 0
	d := fake.RunTwice(fake.Config{Seed: 3}, func(k *fake.Kernel) {
		runs++
		a, _, _ := k.Pair() // records 1 and 2
		b, _, _ := k.Pair()
		first, second := a, b
		if runs == 2 { // the bug: state kept between runs
			first, second = b, a
		}
		k.Write(first, []byte("x")) // record 3
		k.Write(second, []byte("y"))
	})
	if d == nil {
		t.Fatal("RunTwice found no divergence in runs that write in two orders")
	}
	if d.Index != 2 || d.A == nil || d.B == nil || d.A.Op != "write" || d.A.FD != 3 || d.B.FD != 5 {
		t.Fatalf("RunTwice = index %d, %v / %v; want index 2, the first write, on fd 3 then on fd 5", d.Index, d.A, d.B)
	}
	msg := d.Error()
	for _, want := range []string{
		"diverge at record 3",
		"first run:  3 0s write fd=3 1 -> 1",
		"second run: 3 0s write fd=5 1 -> 1",
		"both:       2 0s pair fd=5 6 -> 0",
		"another descriptor",
		"ranging over a map",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the Divergence says\n%s\nwithout %q", msg, want)
		}
	}
}

// TestRunTwiceMapOrder: a scenario that writes its connections while
// ranging over a map is caught at the first write whose order differs.
func TestRunTwiceMapOrder(t *testing.T) {
	scenario := func(k *fake.Kernel) {
		conns := map[string]int{}
		for i := range 16 {
			a, _, _ := k.Pair()
			conns[fmt.Sprint("client", i)] = a
		}
		for _, fd := range conns { // the bug
			k.Write(fd, []byte("hello"))
		}
	}
	for range 10 { // two runs can range a map in one order by chance
		d := fake.RunTwice(fake.Config{}, scenario)
		if d == nil {
			continue
		}
		if d.Index < 16 || d.A == nil || d.A.Op != "write" || d.B.Op != "write" || d.A.FD == d.B.FD {
			t.Fatalf("RunTwice over map order = index %d, %v / %v; want a write after the 16 records of the pairs, on two descriptors", d.Index, d.A, d.B)
		}
		return
	}
	t.Fatal("ten pairs of runs ranging over a map of 16 never diverged")
}

// TestRunTwiceRealTime: a timeout computed from the real clock is caught
// at the first Wait, as a timeout from real time.
func TestRunTwiceRealTime(t *testing.T) {
	start := time.Now()
	d := fake.RunTwice(fake.Config{}, func(k *fake.Kernel) {
		m, _ := k.NewMux()
		defer m.Close()
		m.Wait(make([]mux.Event, 1), time.Second-time.Since(start)) // the bug
	})
	if d == nil || d.Index != 1 || d.A.Op != "wait" || !strings.Contains(d.Error(), "real time rather than") {
		t.Fatalf("RunTwice with a timeout from real time = %v; want the first wait, with another timeout, from real time", d)
	}
}

// TestRunTwiceSame: a deterministic run with faults is the same twice,
// and CheckDeterministic passes it.
func TestRunTwiceSame(t *testing.T) {
	cfg := fake.Config{Seed: 9, Buffer: 1024, Shuffle: true, Faults: benign}
	fake.CheckDeterministic(t, cfg, func(k *fake.Kernel) {
		if res := runEcho(k, 5, 5000); res.ok != 5 {
			t.Errorf("echo loop: %d of 5 clients done, %q", res.ok, res.errs)
		}
	})
}
