package fake

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/muxkit/muxkit/mux"
)

// TestFDSet: fdSet agrees with a plain set under random adds and removes,
// for next from every number, across words and summary words.
func TestFDSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s fdSet
	model := map[int]bool{}
	const max = 64*64*3 + 17 // three summary words and a bit
	for i := range 20000 {
		fd := rng.IntN(max)
		if rng.IntN(3) == 0 {
			s.remove(fd)
			delete(model, fd)
		} else {
			s.add(fd)
			model[fd] = true
		}
		if i%1000 != 999 {
			continue
		}
		var want []int
		for fd := range max + 70 {
			if model[fd] {
				want = append(want, fd)
			}
			if got := s.has(fd); got != model[fd] {
				t.Fatalf("after %d changes: has(%d) = %v; want %v", i+1, fd, got, model[fd])
			}
		}
		var got []int
		for fd := s.next(0); fd >= 0; fd = s.next(fd + 1) {
			got = append(got, fd)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("after %d changes: members by next = %v; want %v", i+1, got, want)
		}
		for _, from := range []int{0, 63, 64, 4095, 4096, 4097, max - 1, max + 64} {
			i, _ := slices.BinarySearch(want, from)
			w := -1
			if i < len(want) {
				w = want[i]
			}
			if got := s.next(from); got != w {
				t.Fatalf("after %d changes: next(%d) = %d; want %d", i+1, from, got, w)
			}
		}
	}
	s.clear()
	if fd := s.next(0); fd != -1 {
		t.Fatalf("next(0) after clear = %d; want -1", fd)
	}
}

// TestWaitLooksAtReady: a Wait looks at the descriptors that may be
// ready, not at every one added — here one ready among 10,000 idle ones.
// A Wait that scanned them all would look at 10,001.
func TestWaitLooksAtReady(t *testing.T) {
	k := New(Config{BusyLoop: -1})
	m, _ := k.NewMux()
	defer m.Close()
	for range 10000 {
		a, _, err := k.Pair()
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Add(a, mux.Readable); err != nil {
			t.Fatal(err)
		}
	}
	x, y, _ := k.Pair()
	k.Write(y, []byte("x"))
	m.Add(x, mux.Readable)
	evs := make([]mux.Event, 4)
	m.Wait(evs, 0) // the first Wait looks at everything just added
	before := m.looked
	for range 10 {
		if n, err := m.Wait(evs, 0); n != 1 || err != nil || evs[0].FD != x {
			t.Fatalf("Wait = %v, %v; want [fd %d: Readable]", evs[:n], err, x)
		}
	}
	if got := m.looked - before; got != 10 {
		t.Errorf("10 Waits looked at %d descriptors with one ready among 10,001 added; want 10, one per Wait", got)
	}
	// A change reaches the Wait: drained, x is no longer reported.
	k.Read(x, make([]byte, 1))
	if n, _ := m.Wait(evs, 0); n != 0 {
		t.Fatalf("Wait after the read = %v; want nothing ready", evs[:n])
	}
}
