package fake_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// lineServer serves addr with a handler that answers each line with
// answer(line), and logs, at the instant it happens, what it was told.
func lineServer(t *testing.T, k *fake.Kernel, addr string, answer func(fd int, line string), log *[]string) {
	t.Helper()
	_, err := k.Serve(addr, func(fd int) fake.Handler {
		var in []byte
		return func(fd int, ev mux.Events) {
			*log = append(*log, fmt.Sprintf("%v %v", k.Elapsed(), ev))
			buf := make([]byte, 256)
			for {
				n, err := k.Read(fd, buf)
				in = append(in, buf[:n]...)
				if err != nil || n == 0 {
					break
				}
			}
			for {
				i := bytes.IndexByte(in, '\n')
				if i < 0 {
					break
				}
				answer(fd, string(in[:i]))
				in = in[i+1:]
			}
			if ev.Has(mux.ReadHangup) {
				k.Close(fd)
			}
		}
	})
	if err != nil {
		t.Fatalf("Serve(%q) = %v", addr, err)
	}
}

// dialed dials addr, waits until the connect completes, and returns the
// descriptor, added to m for Readable.
func dialed(t *testing.T, k *fake.Kernel, m *fake.Mux, addr string) int {
	t.Helper()
	c, err := k.Dial(addr)
	if err != nil {
		t.Fatalf("Dial(%q) = %v", addr, err)
	}
	mustAdd(t, m, c, mux.Writable)
	if got := waitFor(t, m, c, time.Second); got != mux.Writable {
		t.Fatalf("connect reported %v; want Writable", got)
	}
	if err := m.Modify(c, mux.Readable); err != nil {
		t.Fatalf("Modify = %v", err)
	}
	return c
}

// readAll reads what has arrived on fd.
func readAll(k *fake.Kernel, fd int) string {
	var out []byte
	buf := make([]byte, 256)
	for {
		n, err := k.Read(fd, buf)
		out = append(out, buf[:n]...)
		if err != nil || n == 0 {
			return string(out)
		}
	}
}

func TestServe(t *testing.T) {
	k := fake.New(fake.Config{Latency: 2 * time.Millisecond})
	m := mustMux(t, k)
	var log []string
	lineServer(t, k, "echo:7", func(fd int, line string) { k.Write(fd, []byte(strings.ToUpper(line)+"\n")) }, &log)
	c := dialed(t, k, m, "echo:7")
	if want := []string{"2ms Writable"}; !slices.Equal(log, want) {
		t.Fatalf("handler told %q after the connect; want %q: accepted and called at once", log, want)
	}
	k.Write(c, []byte("hello\n"))
	if got := waitFor(t, m, c, time.Second); got != mux.Readable {
		t.Fatalf("Wait after the request = %v; want Readable: the handler answered", got)
	}
	if got := readAll(k, c); got != "HELLO\n" {
		t.Fatalf("response %q; want \"HELLO\\n\"", got)
	}
	if want := []string{"2ms Writable", "2ms Readable|Writable"}; !slices.Equal(log, want) {
		t.Fatalf("handler told %q; want %q: called when the bytes arrived", log, want)
	}
	k.Close(c)
	k.Advance(time.Millisecond)
	if got := log[len(log)-1]; got != "2ms Readable|Writable|ReadHangup" {
		t.Fatalf("handler last told %q; want the peer's close at 2ms", got)
	}
	if d := descriptors(t, k); len(d) != 2 {
		t.Errorf("Descriptors() = %v; want the Multiplexer and the listener (the handler closed its end)", d)
	}
	if peers := k.Trace().Op("peer"); len(peers) != 3 {
		t.Errorf("trace of the handler's calls:\n%v; want 3 peer records", peers)
	}
}

// TestHandleFlowControl: a handler is called again when room appears, so
// a peer can write more than the buffer holds.
func TestHandleFlowControl(t *testing.T) {
	k := fake.New(fake.Config{Buffer: 1000})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	left := 10000
	k.Handle(b, func(fd int, ev mux.Events) {
		for left > 0 {
			n, err := k.Write(fd, make([]byte, min(left, 300)))
			left -= n
			if err != nil {
				return
			}
		}
		k.Close(fd)
	})
	mustAdd(t, m, a, mux.Readable)
	got := 0
	buf := make([]byte, 512)
	for waits := 0; waits < 100; waits++ {
		waitFor(t, m, a, time.Second)
		n, _ := k.Read(a, buf)
		if n == 0 {
			break
		}
		got += n
	}
	if got != 10000 {
		t.Fatalf("read %d bytes from a peer writing 10000 through a 1000-byte buffer; want all of them", got)
	}
}

func TestDelay(t *testing.T) {
	k := fake.New(fake.Config{Delay: 5 * time.Millisecond})
	m := mustMux(t, k)
	var log []string
	lineServer(t, k, "web:80", func(fd int, line string) {
		k.Write(fd, []byte("header\n"))
		k.SetDelay(fd, 20*time.Millisecond, 0)
		k.Write(fd, []byte("body\n"))
		k.Close(fd)
	}, &log)
	c := dialed(t, k, m, "web:80")
	start := k.Elapsed()
	k.Write(c, []byte("GET\n"))
	if got := waitFor(t, m, c, time.Second); got != mux.Readable || k.Elapsed()-start != 10*time.Millisecond {
		t.Fatalf("Wait = %v after %v; want Readable after 10ms: 5ms there, 5ms back", got, k.Elapsed()-start)
	}
	if got := readAll(k, c); got != "header\n" {
		t.Fatalf("read %q at 10ms; want the header only, the body is 20ms behind", got)
	}
	if got := waitFor(t, m, c, time.Second); got != mux.Readable|mux.ReadHangup || k.Elapsed()-start != 25*time.Millisecond {
		t.Fatalf("Wait = %v after %v; want the body and the end of stream after 25ms (written at 5ms, 20ms on the way)", got, k.Elapsed()-start)
	}
	if got := readAll(k, c); got != "body\n" {
		t.Fatalf("read %q at 25ms; want the body, then end of file", got)
	}
}

// TestJitter: with jitter, each write is delayed by its own amount drawn
// from the seed, and bytes still arrive in order.
func TestJitter(t *testing.T) {
	arrivals := func(seed uint64) []time.Duration {
		k := fake.New(fake.Config{Seed: seed, Delay: time.Millisecond, Jitter: 4 * time.Millisecond})
		m := mustMux(t, k)
		a, b := mustTCP(t, k)
		mustAdd(t, m, b, mux.Readable)
		start := k.Elapsed()
		for i := range 10 {
			k.Write(a, []byte{byte('0' + i)})
		}
		var at []time.Duration
		var got []byte
		for len(got) < 10 {
			waitFor(t, m, b, time.Second)
			r := readAll(k, b)
			for range r {
				at = append(at, k.Elapsed()-start)
			}
			got = append(got, r...)
		}
		if string(got) != "0123456789" {
			t.Fatalf("seed %d: read %q; want the bytes in the order written", seed, got)
		}
		return at
	}
	a1, a2, b := arrivals(1), arrivals(1), arrivals(2)
	if !slices.Equal(a1, a2) {
		t.Fatalf("seed 1 twice: arrivals %v and %v; want the same", a1, a2)
	}
	if slices.Equal(a1, b) {
		t.Errorf("seeds 1 and 2: arrivals %v both; want the seed to change them", a1)
	}
	for _, at := range append(a1, b...) {
		if at < time.Millisecond || at > 5*time.Millisecond {
			t.Fatalf("arrivals %v and %v; want each within delay 1ms + jitter 4ms", a1, b)
		}
	}
}

// TestFaultsSparePeers: faults hit the code under test, not the peers.
func TestFaultsSparePeers(t *testing.T) {
	k := fake.New(fake.Config{Faults: fake.Faults{ShortWrite: 1, Again: 0}})
	m := mustMux(t, k)
	var log []string
	lineServer(t, k, "svc:1", func(fd int, line string) {
		if n, err := k.Write(fd, []byte(strings.Repeat("x", 100)+"\n")); n != 101 || err != nil {
			t.Errorf("peer's Write(101 bytes) with ShortWrite: 1 = %d, %v; want all of it: peers are spared", n, err)
		}
	}, &log)
	c := dialed(t, k, m, "svc:1")
	if n, _ := k.Write(c, []byte("ask\n")); n >= 4 {
		t.Fatalf("loop's Write(4 bytes) with ShortWrite: 1 = %d; want a short write", n)
	}
}

func TestFaultsScoped(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, pa := mustPair(t, k)
	x, px := mustPair(t, k)
	mustAdd(t, m, a, mux.Writable)

	k.SetFaults(fake.Faults{ShortWrite: 1, FDs: []int{x}})
	if n, _ := k.Write(a, make([]byte, 10)); n != 10 {
		t.Errorf("Write on fd %d, not in Faults.FDs = %d bytes; want all 10", a, n)
	}
	if n, _ := k.Write(x, make([]byte, 10)); n == 10 {
		t.Errorf("Write on fd %d, in Faults.FDs = 10 bytes; want a short write", x)
	}

	k.SetFaults(fake.Faults{ShortWrite: 1, Mux: m})
	if n, _ := k.Write(a, make([]byte, 10)); n == 10 {
		t.Errorf("Write on fd %d, added to Faults.Mux = 10 bytes; want a short write", a)
	}
	if n, _ := k.Write(x, make([]byte, 10)); n != 10 {
		t.Errorf("Write on fd %d, not added to Faults.Mux = %d bytes; want all 10", x, n)
	}
	other := mustMux(t, k)
	mustAdd(t, other, x, mux.Readable)
	k.Write(pa, []byte("r"))
	k.Write(px, []byte("r"))
	k.SetFaults(fake.Faults{Truncate: 1, Mux: other})
	mustAdd(t, m, pa, mux.Writable)
	if n, _ := m.Wait(make([]mux.Event, 4), 0); n != 2 {
		t.Errorf("Wait of a Multiplexer other than Faults.Mux = %d events; want both, untruncated", n)
	}

	// Nth: the third opportunity, and only it.
	k.SetFaults(fake.Faults{Again: 1, Nth: 3})
	var errs []error
	for range 5 {
		_, err := k.Write(a, []byte("y"))
		errs = append(errs, err)
	}
	if want := []error{nil, nil, syscall.EAGAIN, nil, nil}; !slices.Equal(errs, want) {
		t.Errorf("5 writes with Again: 1, Nth: 3 = %v; want EAGAIN at the third only", errs)
	}
	if got := k.Fired()["again"]; got != 1 {
		t.Errorf("Fired()[again] = %d; want 1", got)
	}
}

func TestTraceReadable(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	l, _ := k.Listen("db.internal:5432")
	c, _ := k.Dial("db.internal:5432")
	mustAdd(t, m, c, mux.Writable)
	mustAdd(t, m, l, mux.Readable)
	waitFor(t, m, c, time.Second)
	tr := k.Trace()
	conn := tr.Op("connect")
	if len(conn) != 1 || conn[0].Addr != "db.internal:5432" || !strings.Contains(conn[0].String(), `"db.internal:5432"`) {
		t.Fatalf("connect record %v; want the address as written", conn)
	}
	waits := tr.Op("wait")
	want := []mux.Event{{FD: l, Events: mux.Readable}, {FD: c, Events: mux.Writable}}
	if len(waits) != 1 || !slices.Equal(waits[0].Events, want) || !strings.HasSuffix(waits[0].String(), fmt.Sprint(want)) {
		t.Fatalf("wait records %v; want one carrying its events %v", waits, want)
	}
	byFD := tr.FD(c)
	var ops []string
	for _, r := range byFD {
		ops = append(ops, r.Op)
	}
	if got := strings.Join(ops, " "); got != "socket connect add connected wait" {
		t.Fatalf("Trace().FD(%d) ops = %s; want socket connect add connected wait", c, got)
	}
}

// TestSetReceiveBuffer: a receive buffer set below what is unread makes
// the writer's writes short and then EAGAIN, and the writer is Writable
// again only once the reader has read below it.
func TestSetReceiveBuffer(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	lfd, _ := k.Listen("db:1")
	c, _ := k.Dial("db:1")
	k.Advance(time.Millisecond)
	s, err := k.Accept(lfd)
	if err != nil {
		t.Fatalf("Accept = %v", err)
	}
	if err := k.SetReceiveBuffer(s, 10); err != nil {
		t.Fatalf("SetReceiveBuffer(%d, 10) = %v; want nil", s, err)
	}
	if n, err := k.Write(c, make([]byte, 25)); n != 10 || err != nil {
		t.Fatalf("Write(25) into a 10-byte receive buffer = %d, %v; want a short write of 10", n, err)
	}
	if n, err := k.Write(c, make([]byte, 15)); n != 0 || err != syscall.EAGAIN {
		t.Fatalf("Write into a full receive buffer = %d, %v; want EAGAIN", n, err)
	}
	mustAdd(t, m, c, mux.Writable)
	if got := waitFor(t, m, c, 0); got != 0 {
		t.Errorf("the writer to a full receive buffer was reported %v; want nothing", got)
	}
	k.Read(s, make([]byte, 4))
	if got := waitFor(t, m, c, 0); got != mux.Writable {
		t.Errorf("after the reader read 4 of 10 bytes the writer was reported %v; want Writable", got)
	}
	k.SetReceiveBuffer(s, 3) // below the 6 unread
	if got := waitFor(t, m, c, 0); got != 0 {
		t.Errorf("with a receive buffer shrunk below what is unread the writer was reported %v; want nothing", got)
	}
	if n, err := k.Write(c, make([]byte, 5)); n != 0 || err != syscall.EAGAIN {
		t.Errorf("Write with a receive buffer shrunk below what is unread = %d, %v; want EAGAIN", n, err)
	}
	k.Read(s, make([]byte, 4)) // 2 left: room for 1
	if n, err := k.Write(c, make([]byte, 5)); n != 1 || err != nil {
		t.Errorf("Write(5) with room for 1 = %d, %v; want 1", n, err)
	}
	for _, bad := range []struct {
		fd, n int
		want  error
	}{{lfd, 10, syscall.ENOTSOCK}, {s, -1, syscall.EINVAL}, {99, 10, syscall.EBADF}} {
		if err := k.SetReceiveBuffer(bad.fd, bad.n); err != bad.want {
			t.Errorf("SetReceiveBuffer(%d, %d) = %v; want %v", bad.fd, bad.n, err, bad.want)
		}
	}
}

// TestSetLatency: connects started after SetLatency take that long to
// complete; those in progress keep their own.
func TestSetLatency(t *testing.T) {
	k := fake.New(fake.Config{Latency: time.Second})
	m := mustMux(t, k)
	k.Listen("db:1")
	k.SetLatency(5 * time.Millisecond)
	slow, _ := k.Dial("db:1")
	k.SetLatency(0)
	fast, _ := k.Dial("db:1")
	mustAdd(t, m, slow, mux.Writable)
	mustAdd(t, m, fast, mux.Writable)
	start := k.Elapsed()
	if got := waitFor(t, m, fast, time.Minute); got != mux.Writable || k.Elapsed() != start {
		t.Errorf("a connect started after SetLatency(0) = %v after %v; want Writable at the first Wait", got, k.Elapsed()-start)
	}
	if got := waitFor(t, m, slow, 0); got != 0 {
		t.Errorf("a connect started after SetLatency(5ms) = %v at once; want it in progress", got)
	}
	m.Remove(fast)
	if got := waitFor(t, m, slow, time.Minute); got != mux.Writable || k.Elapsed()-start != 5*time.Millisecond {
		t.Errorf("a connect started after SetLatency(5ms) = %v after %v; want Writable after 5ms", got, k.Elapsed()-start)
	}
}
