package replay_test

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/record"
	"github.com/muxkit/muxkit/record/replay"
)

// recordOnFake records the exchange on a fake kernel set up by cfg.
func recordOnFake(t *testing.T, cfg fake.Config) (*record.Recording, outcome) {
	t.Helper()
	k := fake.New(cfg)
	m, err := k.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r, err := record.New(&buf, m, k, record.Config{Clock: k.Now})
	if err != nil {
		t.Fatal(err)
	}
	lfd, err := r.Sys().Listen("echo:7")
	if err != nil {
		t.Fatal(err)
	}
	o := exchange(r.Mux(), r.Sys(), lfd, "echo:7", 0)
	r.Mux().Close()
	r.Close()
	rec, err := record.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return rec, o
}

// replayRecorded replays rec on the exchange and records the replay in
// turn.
func replayRecorded(t *testing.T, rec *record.Recording, cfg replay.Config) (*record.Recording, outcome, *replay.Replay) {
	t.Helper()
	rp, err := replay.New(rec, cfg)
	if err != nil {
		t.Fatalf("replay.New = %v", err)
	}
	var buf bytes.Buffer
	r, err := record.New(&buf, rp.Mux(), rp.Sys(), record.Config{Clock: rp.Kernel().Now})
	if err != nil {
		t.Fatal(err)
	}
	lfd, _ := r.Sys().Listen("echo:7")
	o := exchange(r.Mux(), r.Sys(), lfd, dialed(rec), 0)
	r.Mux().Close()
	r.Close()
	if err := rp.Close(); err != nil {
		t.Fatalf("the replay: %v", err)
	}
	again, err := record.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return again, o, rp
}

// TestReplayFakeRecording records the exchange on the fake under seeds of
// faults — short reads and writes, EAGAIN, spurious readiness, readable
// and writable split, early wakeups, refused Adds, shuffled batches, a
// 4 KiB buffer — and replays each recording: the replay, recorded in
// turn, is the same call for call, and the exchange ends the same.
func TestReplayFakeRecording(t *testing.T) {
	seen := map[string]int{}
	fake.Seeds(t, 20, func(t *testing.T, seed uint64) {
		rec, want := recordOnFake(t, fake.Config{Seed: seed, Shuffle: true, Buffer: 4096, Stall: 10 * time.Millisecond, Faults: fake.Faults{
			ShortRead: 0.3, ShortWrite: 0.3, Again: 0.1, Spurious: 0.05, Split: 0.3, EarlyWake: 0.3, AddError: 0.02, Refuse: 0.05, Reset: 0.01,
		}})
		for what, n := range kinds(rec) {
			seen[what] += n
		}
		again, got, rp := replayRecorded(t, rec, replay.Config{})
		if i := record.Diff(rec.Calls, again.Calls); i >= 0 {
			t.Fatalf("the replay differs from the recording at call %d of %d:\n\trecorded: %v\n\treplayed: %v", i+1, len(rec.Calls), at(rec.Calls, i), at(again.Calls, i))
		}
		if errText(got.client.Err) != errText(want.client.Err) || errText(got.server.Err) != errText(want.server.Err) || errText(got.err) != errText(want.err) {
			t.Errorf("the replayed exchange ended with %v, %v, %v; the recorded one with %v, %v, %v",
				got.client.Err, got.server.Err, got.err, want.client.Err, want.server.Err, want.err)
		}
		fake.CheckClean(t, rp.Kernel())
	})
	for _, what := range []string{"a batch out of order", "a read of EAGAIN after readiness", "a Wait woken early", "a refused Add", "a short write", "a write of EAGAIN"} {
		if seen[what] == 0 {
			t.Errorf("no recording had %s: the test did not replay one", what)
		}
	}
}

// kinds counts what rec holds that is hard to replay.
func kinds(rec *record.Recording) map[string]int {
	seen := map[string]int{}
	readable := map[int]bool{} // reported Readable by the last Wait
	for _, c := range rec.Calls {
		switch c.Op {
		case record.OpWait:
			clear(readable)
			for i, ev := range c.Events {
				readable[ev.FD] = ev.Events&mux.Readable != 0
				if i > 0 && ev.FD < c.Events[i-1].FD {
					seen["a batch out of order"]++
				}
			}
			if c.N == 0 && c.Err == nil && c.Timeout != 0 && (c.Timeout < 0 || c.Took < c.Timeout) {
				seen["a Wait woken early"]++
			}
		case record.OpRead:
			if c.Err == syscall.EAGAIN && readable[c.FD] {
				seen["a read of EAGAIN after readiness"]++
			}
			readable[c.FD] = false
		case record.OpAdd, record.OpModify:
			if c.Err != nil {
				seen["a refused Add"]++
			}
		case record.OpWrite:
			if c.Err == nil && c.N < c.Size {
				seen["a short write"]++
			}
			if c.Err == syscall.EAGAIN {
				seen["a write of EAGAIN"]++
			}
		}
	}
	return seen
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
