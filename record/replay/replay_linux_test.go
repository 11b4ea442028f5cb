package replay_test

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/record"
	"github.com/muxkit/muxkit/record/replay"
	"github.com/muxkit/muxkit/statemachine"
)

// abortive is loop.OS whose connections close with a reset: SO_LINGER
// 0 on each socket it dials.
type abortive struct{ loop.Sys }

func (s abortive) Dial(addr string) (int, error) {
	fd, err := s.Sys.Dial(addr)
	if err == nil {
		err = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		if err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	return fd, err
}

var (
	loopbackOnce sync.Once
	loopbackRec  *record.Recording
	loopbackErr  error
)

// recordLoopback records the exchange on loopback TCP with the epoll
// backend, once for the package's tests. The listener's small send
// buffer, which the accepted connection inherits, makes the server's
// writes short and then EAGAIN; the client closes with SO_LINGER 0, so
// the server's next read sees a reset.
func recordLoopback(t *testing.T) *record.Recording {
	t.Helper()
	loopbackOnce.Do(func() { loopbackRec, loopbackErr = recordExchange() })
	if loopbackErr != nil {
		t.Fatal(loopbackErr)
	}
	return loopbackRec
}

func recordExchange() (*record.Recording, error) {
	m, err := epoll.New()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	rec, err := record.New(&buf, m, abortive{loop.OS()}, record.Config{})
	if err != nil {
		m.Close()
		return nil, err
	}
	lfd, err := rec.Sys().Listen("127.0.0.1:0")
	if err != nil {
		m.Close()
		return nil, err
	}
	if err := unix.SetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		return nil, err
	}
	sa, err := unix.Getsockname(lfd)
	if err != nil {
		return nil, err
	}
	in4 := sa.(*unix.SockaddrInet4)
	addr := netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port)).String()
	o := exchange(rec.Mux(), rec.Sys(), lfd, addr, 0)
	rec.Mux().Close()
	if err := rec.Close(); err != nil {
		return nil, err
	}
	if err := o.check(); err != nil {
		return nil, errors.New("the recorded exchange: " + err.Error())
	}
	return record.Read(&buf)
}

// check says how o differs from the exchange's outcome: the client has
// the whole response, the server connection failed with the reset.
func (o outcome) check() error {
	c, _ := o.client.Task.(*statemachine.Client)
	switch {
	case o.err != nil:
		return errors.New("Run = " + o.err.Error())
	case o.client.Err != nil || c == nil || !bytes.Equal(c.Response(), response):
		return errors.New("the client did not get the response")
	case !errors.Is(o.server.Err, syscall.ECONNRESET):
		return errors.New("the server connection did not see the reset")
	}
	return nil
}

// TestRecordAndReplay records the exchange on loopback with epoll — with
// a short write, an EAGAIN and a reset in it — and replays it on the
// fake: the replay, recorded in turn, is the same as the recording call
// for call, the loop's outcome is the same, and a second replay makes
// the fake do just what the first did.
func TestRecordAndReplay(t *testing.T) {
	rec := recordLoopback(t)
	for _, want := range []struct {
		what string
		keep func(c *record.Call) bool
	}{
		{"a short write", func(c *record.Call) bool { return c.Op == record.OpWrite && c.Err == nil && c.N < c.Size }},
		{"a write that returned EAGAIN", func(c *record.Call) bool { return c.Op == record.OpWrite && c.Err == syscall.EAGAIN }},
		{"a read that saw the reset", func(c *record.Call) bool { return c.Op == record.OpRead && c.Err == syscall.ECONNRESET }},
	} {
		if find(rec, want.keep) == nil {
			t.Fatalf("the recording has no %s:\n%v", want.what, rec)
		}
	}

	rp, err := replay.New(rec, replay.Config{})
	if err != nil {
		t.Fatalf("replay.New = %v", err)
	}
	var buf bytes.Buffer
	again, err := record.New(&buf, rp.Mux(), rp.Sys(), record.Config{Clock: rp.Kernel().Now})
	if err != nil {
		t.Fatalf("record.New = %v", err)
	}
	lfd, err := again.Sys().Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen = %v", err)
	}
	o := exchange(again.Mux(), again.Sys(), lfd, dialed(rec), 0)
	again.Mux().Close()
	again.Close()
	if err := rp.Close(); err != nil {
		t.Fatalf("the replay: %v", err)
	}
	if err := o.check(); err != nil {
		t.Errorf("the replayed exchange: %v", err)
	}
	replayed, err := record.Read(&buf)
	if err != nil {
		t.Fatalf("reading the recording of the replay: %v", err)
	}
	if i := record.Diff(rec.Calls, replayed.Calls); i >= 0 {
		t.Fatalf("the replay differs from the recording at call %d of %d:\n\trecorded: %v\n\treplayed: %v", i+1, len(rec.Calls), at(rec.Calls, i), at(replayed.Calls, i))
	}

	// Replayed again, unrecorded: the fake makes the same calls, in the
	// same virtual time.
	rp2, err := replay.New(rec, replay.Config{})
	if err != nil {
		t.Fatalf("replay.New = %v", err)
	}
	lfd, _ = rp2.Sys().Listen("127.0.0.1:0")
	exchange(rp2.Mux(), rp2.Sys(), lfd, dialed(rec), 0)
	rp2.Mux().Close()
	if err := rp2.Close(); err != nil {
		t.Fatalf("the second replay: %v", err)
	}
	if h1, h2 := rp.Kernel().TraceHash(), rp2.Kernel().TraceHash(); h1 != h2 {
		t.Errorf("two replays of one recording have trace hashes %#x and %#x; want one", h1, h2)
	}
}

// replayExchange replays rec with cfg on the exchange whose client reads
// readSize bytes at a time, through the Multiplexer wrap makes of the
// replay's, and returns the outcome and what the replay's Close said.
func replayExchange(t *testing.T, rec *record.Recording, cfg replay.Config, readSize int, wrap func(mux.Multiplexer) mux.Multiplexer) (outcome, error) {
	t.Helper()
	rp, err := replay.New(rec, cfg)
	if err != nil {
		t.Fatalf("replay.New = %v", err)
	}
	lfd, err := rp.Sys().Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen = %v", err)
	}
	m := rp.Mux()
	if wrap != nil {
		m = wrap(m)
	}
	o := exchange(m, rp.Sys(), lfd, dialed(rec), readSize)
	m.Close()
	return o, rp.Close()
}

// TestReplayStopsAtChangedRead: a client that reads 1024 bytes at a
// time, where the recorded one read 4096, is stopped at its first read,
// and the loop's Run returns the Divergence naming both reads.
func TestReplayStopsAtChangedRead(t *testing.T) {
	rec := recordLoopback(t)
	cfd := clientFD(rec)
	first := find(rec, func(c *record.Call) bool { return c.Op == record.OpRead && c.FD == cfd })
	o, err := replayExchange(t, rec, replay.Config{}, 1024, nil)
	var d *replay.Divergence
	if !errors.As(o.err, &d) {
		t.Fatalf("Run of the changed loop = %v; want the *replay.Divergence", o.err)
	}
	if err != d {
		t.Errorf("the replay's Close = %v; want the Divergence Run returned", err)
	}
	if d.Recorded == nil || d.Asked == nil || d.Seq != first.Seq || d.Recorded.Size != 4096 || d.Asked.Op != record.OpRead || d.Asked.Size != 1024 {
		t.Fatalf("Divergence = %+v; want at call %d, the client's first read: 4096 bytes recorded, 1024 asked", d, first.Seq)
	}
	msg := d.Error()
	for _, want := range []string{first.String(), "asked:    read fd=" + itoa(first.FD) + " 1024"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the Divergence says\n%s\nwant it to hold %q", msg, want)
		}
	}
}

// TestReplayStopsAtMissingRemove: a loop whose Multiplexer forgets
// Remove is stopped where the recording removes a descriptor: it closes
// it instead.
func TestReplayStopsAtMissingRemove(t *testing.T) {
	rec := recordLoopback(t)
	remove := find(rec, func(c *record.Call) bool { return c.Op == record.OpRemove })
	o, err := replayExchange(t, rec, replay.Config{}, 0, func(m mux.Multiplexer) mux.Multiplexer { return forgetful{m} })
	var d *replay.Divergence
	if !errors.As(o.err, &d) || err != d {
		t.Fatalf("Run of the loop that forgets Remove = %v, the replay's Close = %v; want both the *replay.Divergence", o.err, err)
	}
	if d.Seq != remove.Seq || d.Asked == nil || d.Asked.Op != record.OpClose || d.Asked.FD != remove.FD {
		t.Fatalf("Divergence = %v\nwant it at call %d, the first remove, with a close of fd %d asked instead", d, remove.Seq, remove.FD)
	}
	if msg := d.Error(); !strings.Contains(msg, "recorded: "+remove.String()) || !strings.Contains(msg, "asked:    close fd="+itoa(remove.FD)) {
		t.Errorf("the Divergence says\n%s\nwant it to name the recorded remove and the close asked", msg)
	}
}

// forgetful is a Multiplexer whose Remove does nothing.
type forgetful struct{ mux.Multiplexer }

func (forgetful) Remove(fd int) error { return nil }

// clientFD returns the descriptor of the first Dial of rec.
func clientFD(rec *record.Recording) int {
	return find(rec, func(c *record.Call) bool { return c.Op == record.OpDial }).N
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestTakeOver: from the first write that returned EAGAIN on, a seed
// takes over with faults of its own: the calls before are replayed, the
// recorded world goes on driving the peers, and the exchange ends as it
// did — the client with the whole response, the server connection with
// the reset — under every seed, the same way twice for each seed, with
// the faults firing only after the takeover.
func TestTakeOver(t *testing.T) {
	rec := recordLoopback(t)
	from := find(rec, func(c *record.Call) bool { return c.Op == record.OpWrite && c.Err == syscall.EAGAIN })
	faults := fake.Faults{ShortWrite: 0.3, ShortRead: 0.3, Again: 0.2, Split: 0.2, Spurious: 0.02, EarlyWake: 0.1}
	run := func(seed uint64) (uint64, *fake.Kernel) {
		rp, err := replay.New(rec, replay.Config{TakeOver: from.Seq, Kernel: fake.Config{Seed: seed, Faults: faults}})
		if err != nil {
			t.Fatalf("replay.New = %v", err)
		}
		lfd, _ := rp.Sys().Listen("127.0.0.1:0")
		o := exchange(rp.Mux(), rp.Sys(), lfd, dialed(rec), 0)
		rp.Mux().Close()
		if err := rp.Close(); err != nil {
			t.Fatalf("seed %d: the replay before the takeover: %v", seed, err)
		}
		if err := o.check(); err != nil {
			t.Fatalf("seed %d: %v\nthe faults:\n%s", seed, err, rp.Kernel().Schedule())
		}
		fake.CheckClean(t, rp.Kernel(), fake.AllowUnfired())
		return rp.Kernel().TraceHash(), rp.Kernel()
	}
	hashes := map[uint64]bool{}
	for seed := uint64(1); seed <= 10; seed++ {
		h, k := run(seed)
		if h2, _ := run(seed); h2 != h {
			t.Errorf("seed %d: two runs have trace hashes %#x and %#x; want one", seed, h, h2)
		}
		hashes[h] = true
		s := k.Schedule()
		if len(s) == 0 {
			t.Errorf("seed %d: no fault fired after the takeover", seed)
		}
		for _, in := range s {
			if in.Time < from.At {
				t.Errorf("seed %d: %v fired at %v, before the takeover at %v", seed, in, in.Time, from.At)
			}
		}
	}
	if len(hashes) < 5 {
		t.Errorf("10 seeds gave %d different runs; want the seeds to explore", len(hashes))
	}
}

// TestTakeOverAtDivergence: a changed loop — its client reads 1024 bytes
// at a time — replayed with the takeover at the call where it parted
// from the recording runs on to the end in the recorded world, with no
// faults: the client gets the whole response and the server connection
// the reset, as recorded. So a recording stays a test of the code once
// it has changed.
func TestTakeOverAtDivergence(t *testing.T) {
	rec := recordLoopback(t)
	_, err := replayExchange(t, rec, replay.Config{}, 1024, nil)
	var d *replay.Divergence
	if !errors.As(err, &d) {
		t.Fatalf("the changed loop's replay ended with %v; want a *replay.Divergence", err)
	}
	o, err := replayExchange(t, rec, replay.Config{TakeOver: d.Seq}, 1024, nil)
	if err != nil {
		t.Fatalf("taken over at call %d, the replay's Close = %v; want nil", d.Seq, err)
	}
	if err := o.check(); err != nil {
		t.Errorf("taken over at call %d: %v", d.Seq, err)
	}
}
