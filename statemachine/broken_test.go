package statemachine

import (
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// The machines below are deliberately broken, each in a way event loops
// built on a multiplexer are commonly broken in public projects: the tail
// of a partial write dropped, Writable kept in the interest once nothing
// is left to write (a busy loop), Writable dropped while output is still
// queued after EAGAIN (a stall), an interest told before the machine
// waits (a Modify the loop did not need). The properties must catch every
// one of them.

// dropTailClient forgets the unsent tail after a short write: it tells the
// Client that everything was written.
type dropTailClient struct {
	realClient
	offered int // length of the Data of the outstanding write
}

func (b *dropTailClient) Step(in Input) Output {
	if in.kind == kindWrote && in.n > 0 && in.n < b.offered {
		in = Wrote(b.offered, nil)
	}
	out := b.realClient.Step(in)
	b.offered = len(out.Data)
	return out
}

func (b *dropTailClient) clone() clientUnderTest {
	d := *b
	d.realClient = b.realClient.clone().(realClient)
	return &d
}

// stickyWritableClient keeps Writable in its interest after the request is
// sent, which makes a level-triggered loop spin.
type stickyWritableClient struct{ realClient }

func (b stickyWritableClient) Step(in Input) Output {
	out := b.realClient.Step(in)
	if out.SetInterest {
		out.Interest |= mux.Writable
	}
	return out
}

func (b stickyWritableClient) Interest() mux.Events {
	if i := b.realClient.Interest(); i != 0 {
		return i | mux.Writable
	}
	return 0
}

func (b stickyWritableClient) clone() clientUnderTest {
	return stickyWritableClient{b.realClient.clone().(realClient)}
}

// lostWritableServer drops Writable from the interest it tells while it
// can still read, like pistache#1114: output queued after a write that
// would block then stalls.
type lostWritableServer struct {
	realServer
	told mux.Events // the interest it has told
}

func (b *lostWritableServer) Step(in Input) Output {
	out := b.realServer.Step(in)
	if out.SetInterest {
		if i := out.Interest &^ mux.Writable; i != 0 {
			out.Interest = i
		}
		out.SetInterest = out.Interest != b.told
		b.told = out.Interest
	}
	if out.Close {
		b.told = 0
	}
	return out
}

func (b *lostWritableServer) clone() serverUnderTest {
	return &lostWritableServer{b.realServer.clone().(realServer), b.told}
}

// eagerInterestServer tells each change of its interest at once, between
// operations too: a loop that registers every one it is told makes two
// Modify calls per request, for a Writable it never waits for.
type eagerInterestServer struct {
	realServer
	told mux.Events // the interest it has told
}

func (b *eagerInterestServer) Step(in Input) Output {
	out := b.realServer.Step(in)
	out.SetInterest, out.Interest = false, 0
	if i := b.realServer.Interest(); !out.Close && i != b.told {
		out.SetInterest, out.Interest = true, i
		b.told = i
	}
	if out.Close {
		b.told = 0
	}
	return out
}

func (b *eagerInterestServer) clone() serverUnderTest {
	return &eagerInterestServer{b.realServer.clone().(realServer), b.told}
}

// brokenCases is how many generated cases a broken machine is tried on.
const brokenCases = 500

func TestPropertiesCatchBrokenClients(t *testing.T) {
	tests := []struct {
		name string
		newM func(ClientConfig, time.Time) clientUnderTest
		want string // in the error of the property that must fail
	}{
		{"drops the tail after a short write", func(cfg ClientConfig, now time.Time) clientUnderTest {
			return &dropTailClient{realClient: newRealClient(cfg, now).(realClient)}
		}, "after writing only"},
		{"keeps Writable after sending", func(cfg ClientConfig, now time.Time) clientUnderTest {
			return stickyWritableClient{newRealClient(cfg, now).(realClient)}
		}, "registered interest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caught(t, "Client", tt.want, func(seed int) error {
				return checkClient(genClientCase().Example(seed), tt.newM, map[Transition]bool{})
			})
		})
	}
}

func TestPropertiesCatchBrokenServers(t *testing.T) {
	tests := []struct {
		name string
		newM func(ServerConfig, time.Time) serverUnderTest
		want string
	}{
		{"drops Writable after EAGAIN", func(cfg ServerConfig, now time.Time) serverUnderTest {
			s := newRealServer(cfg, now).(realServer)
			return &lostWritableServer{s, s.Interest()}
		}, "registered interest"},
		{"tells its interest between operations", func(cfg ServerConfig, now time.Time) serverUnderTest {
			s := newRealServer(cfg, now).(realServer)
			return &eagerInterestServer{s, s.Interest()}
		}, "want the interest told only when the ServerConn waits"},
		{"ignores the output bound", func(cfg ServerConfig, now time.Time) serverUnderTest {
			cfg.MaxQueued = 1 << 30 // keeps reading whatever is queued
			return newRealServer(cfg, now)
		}, "want Throttled exactly while the queue exceeds the bound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caught(t, "ServerConn", tt.want, func(seed int) error {
				return checkServer(genServerCase().Example(seed), tt.newM, map[Transition]bool{})
			})
		})
	}
}

// caught runs check on brokenCases fixed cases and wants one of them to
// fail, for the reason want.
func caught(t *testing.T, machine, want string, check func(seed int) error) {
	t.Helper()
	for seed := range brokenCases {
		err := check(seed)
		if err == nil {
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("case %d failed for another reason than expected (want %q):\n%v", seed, want, err)
		}
		t.Logf("caught by case %d: %s", seed, firstLine(err.Error()))
		return
	}
	t.Errorf("none of %d cases caught the broken %s: want the properties to fail on it", brokenCases, machine)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
