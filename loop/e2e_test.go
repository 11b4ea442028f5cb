//go:build unix

package loop_test

import (
	"bytes"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/statemachine"
	"testing"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/mux/fake"
)

// exchanges is how many concurrent client exchanges the end-to-end
// scenario runs on each backend.
const exchanges = 64

// TestExchangesEveryBackend runs the scenario — an echo server of
// ServerConn machines and concurrent Client exchanges, all in one loop —
// on every backend of this system over 127.0.0.1 TCP, and on the fake.
func TestExchangesEveryBackend(t *testing.T) {
	for _, name := range backend.Names() {
		t.Run(name, func(t *testing.T) {
			m, err := backend.Open(name)
			if err != nil {
				t.Fatalf("backend.Open(%q) = %v", name, err)
			}
			defer m.Close()
			out, l := run(t, setup{m: m, sys: loop.OS(), addr: "127.0.0.1:0", resolve: resolver(t), n: exchanges})
			out.checkAll(t, exchanges)
			if st := l.Stats(); st.Running != 0 || st.Queued != 0 || st.Finished != 2*exchanges {
				t.Errorf("Stats() = %+v after the run; want nothing running or queued and %d finished", st, 2*exchanges)
			}
		})
	}
	t.Run("fake", func(t *testing.T) {
		k := fake.New(fake.Config{Seed: 1})
		m, err := k.NewMux()
		if err != nil {
			t.Fatalf("NewMux() = %v", err)
		}
		defer m.Close()
		out, _ := run(t, setup{m: m, sys: k, addr: "echo:7", n: exchanges})
		out.checkAll(t, exchanges)
		if err := k.BusyLoop(); err != nil {
			t.Errorf("BusyLoop() = %v; want nil", err)
		}
		if d, _ := k.Descriptors(); len(d) != 1 {
			t.Errorf("Descriptors() = %v after the run; want only the Multiplexer's own (the loop closes every descriptor)", d)
		}
	})
}

// TestMaxTasks submits many server connections to a loop capped far
// below their number: at most MaxTasks run at once, the rest wait in the
// queue, and every one is served in the end. The client ends are written
// up front and read afterwards by the test.
func TestMaxTasks(t *testing.T) {
	const conns = 30
	for _, max := range []int{1, 2, 5} {
		k := fake.New(fake.Config{Seed: uint64(max)})
		m, _ := k.NewMux()
		l, _ := loop.New(loop.Config{Mux: m, Sys: k, MaxTasks: max})
		var peers []int
		peak, served := 0, 0
		for i := range conns {
			a, b, err := k.Pair()
			if err != nil {
				t.Fatalf("Pair() = %v", err)
			}
			peers = append(peers, a)
			k.Write(a, request(i))
			k.Shutdown(a, unix.SHUT_WR)
			s := statemachine.NewServerConn(statemachine.ServerConfig{}, l.Now())
			err = l.Submit(b, &s, func(r loop.Result) {
				peak = maxInt(peak, l.Stats().Running+1) // +1: this one has just left
				if r.Err != nil {
					t.Errorf("server connection %d: %v; want success", i, r.Err)
				}
				served++
				if served == conns {
					l.Stop()
				}
			})
			if err != nil {
				t.Fatalf("Submit #%d = %v; want nil", i, err)
			}
		}
		if st := l.Stats(); st.Queued != conns {
			t.Errorf("MaxTasks %d: before Run, Stats().Queued = %d; want %d", max, st.Queued, conns)
		}
		if err := l.Run(); err != nil {
			t.Errorf("MaxTasks %d: Run() = %v; want nil", max, err)
		}
		if peak > max {
			t.Errorf("MaxTasks %d: %d tasks ran at once; want at most %d", max, peak, max)
		}
		if served != conns {
			t.Errorf("MaxTasks %d: %d connections served; want %d", max, served, conns)
		}
		buf := make([]byte, 64<<10)
		for i, a := range peers {
			n, _ := k.Read(a, buf)
			if want := request(i); !bytes.Equal(buf[:n], want) {
				t.Errorf("MaxTasks %d: connection %d echoed %d bytes; want its %d-byte request", max, i, n, len(want))
			}
			k.Close(a)
		}
		if st := l.Stats(); st.Running != 0 || st.Queued != 0 || st.Finished != conns {
			t.Errorf("MaxTasks %d: Stats() = %+v after the run; want nothing running or queued, %d finished", max, st, conns)
		}
		m.Close()
	}
}

func maxInt(a, b int) int { return max(a, b) }

// TestSubmitHighDescriptor: an open descriptor with a high number is
// served like any other, and the loop's room for it costs a few bytes a
// number, not a task's record for every number below it.
func TestSubmitHighDescriptor(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &raised); err == nil {
			t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &lim) })
			lim = raised
		}
	}
	const want = 16_000
	if lim.Cur <= want {
		t.Skipf("RLIMIT_NOFILE is %d; the test needs descriptor %d", lim.Cur, want)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	defer unix.Close(pair[0])
	if err := unix.Dup2(pair[1], want); err != nil {
		t.Fatalf("dup2(%d, %d): %v", pair[1], want, err)
	}
	unix.Close(pair[1])
	unix.CloseOnExec(want)
	if err := unix.SetNonblock(want, true); err != nil {
		unix.Close(want)
		t.Fatalf("set non-blocking: %v", err)
	}
	m, err := backend.OpenDefault()
	if err != nil {
		t.Fatalf("backend.OpenDefault() = %v", err)
	}
	defer m.Close()
	l, err := loop.New(loop.Config{Mux: m, Sys: loop.OS()})
	if err != nil {
		t.Fatalf("loop.New = %v", err)
	}
	unix.Write(pair[0], []byte("high\n"))
	unix.Shutdown(pair[0], unix.SHUT_WR)
	before := heapInUse()
	s := statemachine.NewServerConn(statemachine.ServerConfig{}, l.Now())
	var got loop.Result
	var grew int64
	l.Submit(want, &s, func(r loop.Result) { got, grew = r, int64(heapInUse())-int64(before) })
	runOnce(t, l)
	if got.Err != nil || got.FD != want {
		t.Errorf("Result = %+v; want the connection on fd %d served", got, want)
	}
	if buf := make([]byte, 16); true {
		n, _ := unix.Read(pair[0], buf)
		if string(buf[:max(n, 0)]) != "high\n" {
			t.Errorf("the peer read %q; want the line echoed", buf[:max(n, 0)])
		}
	}
	if grew > 256<<10 {
		t.Errorf("the loop held %d more bytes while serving descriptor %d; want at most 256 KiB (4 bytes a number)", grew, want)
	}
}
