package fake_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// asker is a Chooser that answers from a function and keeps every
// question and answer.
type asker struct {
	answer func(c fake.Choice) uint64
	asked  []fake.Choice
	told   []uint64
}

func (s *asker) Choose(c fake.Choice) uint64 {
	a := s.answer(c)
	s.asked = append(s.asked, c)
	s.told = append(s.told, a)
	return a
}

// TestChooserMakesEveryChoice: with Config.Choices, the kernel asks the
// Chooser whether each fault fires and how short a write is, says what
// it asks about, and does what it answers.
func TestChooserMakesEveryChoice(t *testing.T) {
	s := &asker{answer: func(c fake.Choice) uint64 {
		switch c.Kind {
		case fake.ChooseFires:
			return 1 // every fault fires
		case fake.ChooseSize:
			return 9 // ten bytes
		}
		return 0
	}}
	k := fake.New(fake.Config{Choices: s, Faults: fake.Faults{ShortWrite: 0.5}})
	a, _ := mustPair(t, k)
	if n, err := k.Write(a, make([]byte, 100)); n != 10 || err != nil {
		t.Fatalf("Write(100) with the Chooser answering \"fires\" and size 9 = %d, %v; want 10 bytes", n, err)
	}
	want := []fake.Choice{
		{Kind: fake.ChooseFires, Fault: "short-write", FD: a, Seq: 2, N: 2, P: 0.5}, // record 2 will be the fault
		{Kind: fake.ChooseSize, Fault: "short-write", FD: a, Seq: 3, N: 99},         // record 3 the write
	}
	if fmt.Sprint(s.asked) != fmt.Sprint(want) {
		t.Errorf("the Chooser was asked %+v; want %+v", s.asked, want)
	}

	s.answer = func(fake.Choice) uint64 { return 0 } // nothing fires
	if n, _ := k.Write(a, make([]byte, 100)); n != 100 {
		t.Errorf("Write(100) with the Chooser answering \"does not fire\" = %d; want all 100", n)
	}
	s.answer = func(fake.Choice) uint64 { return 1 << 40 } // out of range: the largest answer
	if n, _ := k.Write(a, make([]byte, 100)); n != 99 {
		t.Errorf("Write(100) with a size answer beyond N = %d; want 99, the largest short write", n)
	}
}

// TestChooserOrdersAndDelays: the order of a shuffled batch and the
// jitter of a delivery are choices too.
func TestChooserOrdersAndDelays(t *testing.T) {
	s := &asker{answer: func(c fake.Choice) uint64 { return c.N - 1 }} // shuffle: nothing moves; jitter: the most
	k := fake.New(fake.Config{Choices: s, Shuffle: true, Jitter: time.Millisecond})
	m := mustMux(t, k)
	var fds []int
	for range 3 {
		a, b := mustPair(t, k)
		k.Write(b, []byte("x"))
		mustAdd(t, m, a, mux.Readable)
		fds = append(fds, a)
	}
	evs := make([]mux.Event, 4)
	if n, _ := m.Wait(evs, 0); n != 3 || evs[0].FD != fds[0] || evs[2].FD != fds[2] {
		t.Errorf("a shuffle answered with N-1 at each step gave %v; want the ascending order of %v", evs[:n], fds)
	}
	var kinds []string
	for _, c := range s.asked {
		kinds = append(kinds, c.Kind.String())
	}
	if got := strings.Join(kinds, " "); got != "order order" {
		t.Errorf("the kinds asked of a batch of 3 = %q; want two steps of a shuffle", got)
	}

	s.asked = nil
	k = fake.New(fake.Config{Choices: s, Jitter: time.Millisecond})
	m = mustMux(t, k)
	lfd, _ := k.Listen("db:1")
	c, _ := k.Dial("db:1")
	k.Advance(time.Millisecond)
	srv, _ := k.Accept(lfd)
	start := k.Now()
	k.Write(srv, []byte("x"))
	mustAdd(t, m, c, mux.Readable)
	if got := waitFor(t, m, c, time.Second); got != mux.Readable || k.Now().Sub(start) != time.Millisecond {
		t.Errorf("a write with the most jitter arrived as %v after %v; want Readable after the 1ms of jitter", got, k.Now().Sub(start))
	}
	if len(s.asked) != 1 || s.asked[0].Kind != fake.ChooseDelay || s.asked[0].N != uint64(time.Millisecond)+1 || s.asked[0].FD != srv {
		t.Errorf("the Chooser was asked %+v; want one delay below 1ms+1ns about fd %d", s.asked, srv)
	}
}

// replay answers the recorded questions it was given, in order, checking
// that each is the one recorded, and from step from on lets then answer.
type replay struct {
	told []uint64
	asks []fake.Choice
	from uint64
	then fake.Chooser
	i    int
	t    *testing.T
}

func (r *replay) Choose(c fake.Choice) uint64 {
	if c.Seq >= r.from || r.i >= len(r.told) {
		return r.then.Choose(c)
	}
	if want := r.asks[r.i]; c != want {
		r.t.Errorf("replay step %d: asked %+v; the recording has %+v", r.i, c, want)
	}
	r.i++
	return r.told[r.i-1]
}

// TestReplayThenSeed: a run's choices can be recorded, replayed, and a
// seed can take over from any step: the replay reproduces the run's
// trace up to that step, and from there the run is the seed's, the same
// on every replay.
func TestReplayThenSeed(t *testing.T) {
	faults := fake.Faults{ShortWrite: 0.4, ShortRead: 0.4, Again: 0.2, Split: 0.3, Truncate: 0.3, Spurious: 0.05}
	rec := &asker{}
	seeded := fake.Seeded(42)
	rec.answer = seeded.Choose
	k := fake.New(fake.Config{Choices: rec, Buffer: 512, Shuffle: true, Faults: faults, Trace: -1})
	if res := runEcho(k, 3, 3000); res.ok != 3 {
		t.Fatalf("recorded run: %d of 3 clients done, %q", res.ok, res.errs)
	}
	whole := k.Trace()
	if len(rec.asked) < 100 {
		t.Fatalf("the run asked %d questions; want a run that makes many choices", len(rec.asked))
	}

	from := rec.asked[len(rec.asked)/2].Seq // take over in the middle
	run := func() (fake.Records, uint64) {
		r := &replay{told: rec.told, asks: rec.asked, from: from, then: fake.Seeded(7), t: t}
		k := fake.New(fake.Config{Choices: r, Buffer: 512, Shuffle: true, Faults: faults, Trace: -1})
		runEcho(k, 3, 3000)
		return k.Trace(), k.TraceHash()
	}
	tr, h := run()
	for i := range from - 1 {
		if tr[i].String() != whole[i].String() {
			t.Fatalf("the replay differs from the recorded run at record %d, before step %d where the seed takes over:\n%v\n%v", i+1, from, tr[i], whole[i])
		}
	}
	if _, h2 := run(); h2 != h {
		t.Errorf("two replays taken over by one seed at step %d: hashes %#x and %#x; want one", from, h, h2)
	}
}

// TestScheduleReadable: Schedule lists the faults that fired, each with
// the call it hit, in words.
func TestScheduleReadable(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	x, y := mustPair(t, k)
	mustAdd(t, m, a, mux.Readable)
	mustAdd(t, m, x, mux.Readable)
	k.Write(b, []byte("hello"))
	k.Write(y, []byte("hello"))

	k.SetFaults(fake.Faults{ShortWrite: 1, Nth: 1})
	k.Write(b, make([]byte, 10))
	k.SetFaults(fake.Faults{Truncate: 1, Nth: 1})
	m.Wait(make([]mux.Event, 4), 0)
	k.SetFaults(fake.Faults{Again: 1, Nth: 1})
	k.Read(a, make([]byte, 8))
	k.SetFaults(fake.Faults{AddError: 1, Nth: 1})
	m.Modify(x, mux.Writable)

	got := strings.Split(strings.TrimSuffix(k.Schedule().String(), "\n"), "\n")
	want := []string{
		fmt.Sprintf("at call 10 (write fd=%d 10 -> ", b), // the size is the seed's
		"at call 13 (wait fd=3 0s -> 1): batch truncated to 1 of 2 events",
		fmt.Sprintf("at call 16 (read fd=%d 8 -> 0 resource temporarily unavailable): EAGAIN despite readiness on fd %d", a, a),
		fmt.Sprintf("at call 19 (modify fd=%d Writable -> 0 ", x),
	}
	if len(got) != len(want) {
		t.Fatalf("Schedule() =\n%s\nwant 4 lines", k.Schedule())
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d of the schedule = %q; want it to begin %q", i+1, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "short write of ") || !strings.HasSuffix(got[3], fmt.Sprintf("modify of fd %d failed: cannot allocate memory", x)) {
		t.Errorf("the schedule does not say what the faults did:\n%s", k.Schedule())
	}
}

// TestScheduleSkipsPeers: a refused connect is pinned to the loop's next
// call, not to the calls of an After function and of a peer made in
// between.
func TestScheduleSkipsPeers(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{Refuse: 1}})
	_, pb := mustPair(t, k)
	k.Handle(pb, func(fd int, ev mux.Events) { k.Read(fd, make([]byte, 8)) })
	k.Listen("db:1")
	m := mustMux(t, k)
	c, _ := k.Dial("db:1")
	mustAdd(t, m, c, mux.Writable)
	k.After(time.Millisecond, func() { k.Write(pb-1, []byte("x")) }) // wakes the peer at the instant of the refusal
	waitFor(t, m, c, time.Second)
	s := k.Schedule()
	if len(s) != 1 || s[0].Fault != "refuse" || s[0].Call.Op != "wait" {
		t.Fatalf("Schedule() = %v; want the refusal, hitting the loop's wait", s)
	}
}
