package record_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/record"
)

// session records a few calls of every kind on a fake kernel, with cfg,
// and returns the recording's bytes and the descriptors: the listener,
// the client's end and the server's.
func session(t *testing.T, w io.Writer, cfg record.Config) (lfd, c, s int) {
	t.Helper()
	k := fake.New(fake.Config{})
	m, err := k.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock = k.Now
	r, err := record.New(w, m, k, cfg)
	if err != nil {
		t.Fatalf("record.New = %v", err)
	}
	sys, rm := r.Sys(), r.Mux()
	evs := make([]mux.Event, 8)
	lfd, _ = sys.Listen("db:1")          // 1
	c, _ = sys.Dial("db:1")              // 2
	rm.Add(c, mux.Writable)              // 3
	rm.Wait(evs, time.Second)            // 4: the connect completes after 1ms
	sys.SockErr(c)                       // 5
	s, _ = sys.Accept(lfd)               // 6
	sys.Write(c, []byte("hello, world")) // 7
	sys.Read(s, make([]byte, 16))        // 8
	sys.Read(s, make([]byte, 16))        // 9: EAGAIN
	rm.Add(c, mux.Readable)              // 10: ErrExists
	k.Advance(time.Millisecond)          // (not a call of the loop's)
	sys.Now()                            // 11
	rm.Modify(c, mux.Readable)           // 12
	rm.Wake()                            // 13
	rm.Wait(evs, -1)                     // 14: woken
	rm.Remove(c)                         // 15
	sys.Close(c)                         // 16
	sys.Close(c)                         // 17: EBADF
	rm.Close()                           // 18
	if err := r.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	return lfd, c, s
}

// TestRoundTrip: a recording read back holds every call made, with its
// arguments, its result and its time on the recorder's clock.
func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	lfd, c, s := session(t, &buf, record.Config{})
	rec, err := record.Read(&buf)
	if err != nil {
		t.Fatalf("Read = %v", err)
	}
	if rec.Backend.Name != "fake" || !rec.Start.Equal(fake.Epoch) {
		t.Errorf("header: backend %q, start %v; want the fake's, at its epoch %v", rec.Backend.Name, rec.Start, fake.Epoch)
	}
	if rec.Backend.Modes != mux.Modes || !rec.Backend.RegularFiles || !rec.Backend.Scales {
		t.Errorf("header: backend %v; want the fake's self-description, its modes (%v) included: a replay says what the recorded backend said", rec.Backend, mux.Modes)
	}
	ms := time.Millisecond
	want := []record.Call{
		{Op: record.OpListen, FD: -1, Addr: "db:1", N: lfd},
		{Op: record.OpDial, FD: -1, Addr: "db:1", N: c},
		{Op: record.OpAdd, FD: c, Interest: mux.Writable},
		{Op: record.OpWait, FD: -1, Size: 8, Timeout: time.Second, Took: ms, N: 1, Events: []mux.Event{{FD: c, Events: mux.Writable}}},
		{Op: record.OpSockErr, FD: c, At: ms},
		{Op: record.OpAccept, FD: lfd, N: s, At: ms},
		{Op: record.OpWrite, FD: c, Size: 12, N: 12, Data: []byte("hello, world"), At: ms},
		{Op: record.OpRead, FD: s, Size: 16, N: 12, Data: []byte("hello, world"), At: ms},
		{Op: record.OpRead, FD: s, Size: 16, Err: syscall.EAGAIN, At: ms},
		{Op: record.OpAdd, FD: c, Interest: mux.Readable, Err: &record.Error{Kind: mux.ErrExists, Errno: syscall.EEXIST}, At: ms},
		{Op: record.OpNow, FD: -1, At: 2 * ms},
		{Op: record.OpModify, FD: c, Interest: mux.Readable, At: 2 * ms},
		{Op: record.OpWake, FD: -1, At: 2 * ms},
		{Op: record.OpWait, FD: -1, Size: 8, Timeout: -1, At: 2 * ms},
		{Op: record.OpRemove, FD: c, At: 2 * ms},
		{Op: record.OpClose, FD: c, At: 2 * ms},
		{Op: record.OpClose, FD: c, Err: syscall.EBADF, At: 2 * ms},
		{Op: record.OpMuxClose, FD: -1, At: 2 * ms},
	}
	if len(rec.Calls) != len(want) {
		t.Fatalf("read %d calls; want %d:\n%v", len(rec.Calls), len(want), rec)
	}
	for i, w := range want {
		got := rec.Calls[i]
		w.Seq, w.Sum = uint64(i+1), record.Checksum(w.Data)
		if got.Seq != w.Seq || got.At != w.At || got.Took != w.Took || !got.SameCall(w) || !got.SameResult(w) {
			t.Errorf("call %d = %v (at %v, took %v); want %v (at %v, took %v)", i+1, got, got.At, got.Took, w, w.At, w.Took)
		}
	}
	add := rec.Calls[9].Err
	if !errors.Is(add, mux.ErrExists) || !errors.Is(add, syscall.EEXIST) || !strings.Contains(add.Error(), "already added") {
		t.Errorf("the failed Add's error read back = %q; want mux.ErrExists and EEXIST, and its text", add)
	}
	if rec.Calls[8].Err != syscall.EAGAIN {
		t.Errorf("the EAGAIN read back = %#v; want the bare errno, so that == works", rec.Calls[8].Err)
	}
}

// TestKeep: a recording keeps as many of the bytes moved as it is told,
// and a checksum of all of them.
func TestKeep(t *testing.T) {
	var buf bytes.Buffer
	session(t, &buf, record.Config{Reads: record.NoBytes, Writes: 5})
	rec, err := record.Read(&buf)
	if err != nil {
		t.Fatalf("Read = %v", err)
	}
	w, r := rec.Calls[6], rec.Calls[7]
	msg := []byte("hello, world")
	if string(w.Data) != "hello" || w.N != 12 || !w.Moved(msg) || w.Moved([]byte("hello, WORLD")) {
		t.Errorf("write kept %q of %d bytes; want the first 5 of 12, and a checksum that tells the rest", w.Data, w.N)
	}
	if r.Data != nil || r.N != 12 || r.Sum != record.Checksum(msg) {
		t.Errorf("read kept %q of %d bytes, checksum %#x; want none, 12 and %#x", r.Data, r.N, r.Sum, record.Checksum(msg))
	}
	if rec.Reads != record.NoBytes || rec.Writes != 5 {
		t.Errorf("header says reads %d, writes %d; want the recorder's -1 and 5", rec.Reads, rec.Writes)
	}
	if got := w.String(); !strings.HasSuffix(got, `-> 12 "hello"…`) {
		t.Errorf("the write prints as %q; want its 5 bytes kept, then …", got)
	}
}

// writes keeps each Write it is given.
type writes struct{ w [][]byte }

func (w *writes) Write(p []byte) (int, error) {
	w.w = append(w.w, bytes.Clone(p))
	return len(p), nil
}

func (w *writes) all() []byte { return bytes.Join(w.w, nil) }

// TestDamaged: a recording cut short anywhere, as a crash leaves it,
// reads up to the last whole block, and says where the damage starts;
// a block whose bytes changed is damage too.
func TestDamaged(t *testing.T) {
	var w writes
	session(t, &w, record.Config{Block: 40})
	whole, err := record.Read(bytes.NewReader(w.all()))
	if err != nil || len(whole.Calls) != 18 {
		t.Fatalf("Read of the whole recording = %d calls, %v; want 18, nil", len(whole.Calls), err)
	}
	if len(w.w) < 5 {
		t.Fatalf("the recorder wrote %d times with 40-byte blocks; want a block at a time", len(w.w))
	}
	// Each Write is a whole frame; the first two are the magic and the
	// header.
	file := w.all()
	ends := []int{}
	for i, n := 0, 0; i < len(w.w); i++ {
		n += len(w.w[i])
		ends = append(ends, n)
	}
	for cut := ends[1]; cut < len(file); cut++ {
		rec, err := record.Read(bytes.NewReader(file[:cut]))
		var d *record.DamagedError
		atEnd := false
		for _, e := range ends {
			atEnd = atEnd || e == cut
		}
		switch {
		case rec == nil:
			t.Fatalf("Read of the first %d bytes = nil, %v; want the calls before the cut", cut, err)
		case atEnd && err != nil:
			t.Errorf("Read of the first %d bytes, a whole number of blocks = %v; want no error", cut, err)
		case !atEnd && !errors.As(err, &d):
			t.Errorf("Read of the first %d bytes, cut inside a block = %v; want a *DamagedError", cut, err)
		case !atEnd && (d.Calls != len(rec.Calls) || !errors.Is(err, io.ErrUnexpectedEOF)):
			t.Errorf("Read of the first %d bytes = %v with %d calls; want the calls it read and an unexpected EOF", cut, err, len(rec.Calls))
		}
		if i := record.Diff(rec.Calls, whole.Calls); i >= 0 && i < len(rec.Calls) {
			t.Errorf("Read of the first %d bytes: call %d = %v; want %v", cut, i+1, rec.Calls[i], whole.Calls[i])
		}
	}
	bad := bytes.Clone(file)
	bad[len(bad)-6]++
	rec, err := record.Read(bytes.NewReader(bad))
	var d *record.DamagedError
	if !errors.As(err, &d) || !strings.Contains(err.Error(), "checksum") || d.Offset != int64(ends[len(ends)-2]) || len(rec.Calls) >= 18 {
		t.Errorf("Read with a byte of the last block changed = %d calls, %v; want the calls before it and a checksum mismatch at byte %d", len(rec.Calls), err, ends[len(ends)-2])
	}
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{[]byte("GIF89a, not a recording"), "not a muxkit recording"},
		{append([]byte("muxkit-rec"), 2), "format version 2"},
		{file[:ends[0]+3], "header"},
	} {
		if rec, err := record.Read(bytes.NewReader(tc.data)); rec != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%q) = %v, %v; want no recording and an error saying %q", tc.data, rec, err, tc.want)
		}
	}
}

// FuzzRead: Read never panics, whatever it is given, and what it reads
// of a damaged recording is a recording.
func FuzzRead(f *testing.F) {
	var w writes
	k := fake.New(fake.Config{})
	m, _ := k.NewMux()
	r, _ := record.New(&w, m, k, record.Config{Block: 16, Clock: k.Now})
	a, b, _ := k.Pair()
	r.Mux().Add(a, mux.Readable)
	r.Sys().Write(b, []byte("ping"))
	r.Mux().Wait(make([]mux.Event, 4), 0)
	r.Sys().Read(a, make([]byte, 8))
	r.Close()
	f.Add(w.all())
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := record.Read(bytes.NewReader(data))
		if rec == nil && err == nil {
			t.Fatal("Read returned no recording and no error")
		}
		if rec != nil && rec.String() == "" {
			t.Fatal("a recording read prints as nothing")
		}
	})
}

// failing is a writer that fails after its first n bytes.
type failing struct{ n int }

var errDisk = errors.New("disk full")

func (f *failing) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errDisk
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriterFails: when the writer fails, the recording stops, the
// loop's calls go on as before, and Err and Close say why.
func TestWriterFails(t *testing.T) {
	k := fake.New(fake.Config{})
	m, _ := k.NewMux()
	r, err := record.New(&failing{n: 100}, m, k, record.Config{Block: 1})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	a, b, _ := k.Pair()
	for range 20 {
		if n, err := r.Sys().Write(b, []byte("ping")); n != 4 || err != nil {
			t.Fatalf("Write through a recorder whose writer failed = %d, %v; want the fake's 4, nil", n, err)
		}
	}
	if n, err := r.Sys().Read(a, make([]byte, 100)); n != 80 || err != nil {
		t.Errorf("Read = %d, %v; want the 80 bytes written", n, err)
	}
	if !errors.Is(r.Err(), errDisk) || !errors.Is(r.Close(), errDisk) {
		t.Errorf("Err = %v, Close = %v; want the writer's error", r.Err(), r.Close())
	}
	if _, err := record.New(&failing{}, m, k, record.Config{}); !errors.Is(err, errDisk) {
		t.Errorf("New with a writer that fails at once = %v; want its error", err)
	}
}

// TestPrint: a recording prints one call a line, as the fake's trace
// does, after a line that says what it is.
func TestPrint(t *testing.T) {
	var buf bytes.Buffer
	lfd, c, s := session(t, &buf, record.Config{})
	rec, _ := record.Read(&buf)
	var out strings.Builder
	if err := rec.Print(&out, 5); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	want := map[int]string{
		0:  "recording of fake (fake: reports Readable|Writable|Priority|ReadHangup|Hangup|Error, O(1) in fds, regular files, max fd unlimited, timeout resolution 1ns, modes EdgeTriggered|OneShot), started 2000-01-01T00:00:00Z, 18 calls",
		1:  fmt.Sprintf(`1 +0s listen "db:1" -> %d`, lfd),
		4:  fmt.Sprintf("4 +0s wait 8 1s -> 1 [fd %d: Writable] (took 1ms)", c),
		8:  fmt.Sprintf(`8 +1ms read fd=%d 16 -> 12 "hello"…`, s),
		9:  fmt.Sprintf("9 +1ms read fd=%d 16 -> 0 resource temporarily unavailable", s),
		10: fmt.Sprintf("10 +1ms add fd=%d Readable -> fake: add fd %d: mux: descriptor already added: file exists", c, c),
		11: "11 +2ms now",
		14: "14 +2ms wait 8 forever -> 0 (took 0s)",
		15: fmt.Sprintf("15 +2ms remove fd=%d -> ok", c),
	}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Errorf("line %d of the print =\n\t%q\nwant\n\t%q", i+1, lines[min(i, len(lines)-1)], w)
		}
	}
}

// TestDiff: Diff names the first call that differs in its arguments or
// its result, and where one recording is the other cut short.
func TestDiff(t *testing.T) {
	var buf bytes.Buffer
	session(t, &buf, record.Config{})
	rec, _ := record.Read(&buf)
	a := rec.Calls
	if i := record.Diff(a, a); i != -1 {
		t.Errorf("Diff of a recording with itself = %d; want -1", i)
	}
	b := append([]record.Call(nil), a...)
	b[7].Data = []byte("hello, WORLD")
	b[7].Sum = record.Checksum(b[7].Data)
	if i := record.Diff(a, b); i != 7 {
		t.Errorf("Diff with other bytes read at call 8 = %d; want 7", i)
	}
	b = append([]record.Call(nil), a...)
	b[13].Timeout = time.Second
	if i := record.Diff(a, b); i != 13 {
		t.Errorf("Diff with another timeout at call 14 = %d; want 13", i)
	}
	if i := record.Diff(a, a[:10]); i != 10 {
		t.Errorf("Diff with the recording cut after 10 calls = %d; want 10", i)
	}
}

// overcounting is a broken Multiplexer whose Wait says it reported more
// events than its slice holds.
type overcounting struct{ mux.Multiplexer }

func (overcounting) Wait(events []mux.Event, _ time.Duration) (int, error) {
	for i := range events {
		events[i] = mux.Event{FD: 7, Events: mux.Readable}
	}
	return len(events) + 1, nil
}

// TestBrokenCount: a Wait whose count runs past its slice is recorded
// with the events the slice holds, and the count is handed back to the
// loop as the backend gave it; the recorder does not panic.
func TestBrokenCount(t *testing.T) {
	k := fake.New(fake.Config{})
	m, err := k.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var buf bytes.Buffer
	r, err := record.New(&buf, overcounting{m}, k, record.Config{Clock: k.Now})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Mux().Wait(make([]mux.Event, 2), 0); n != 3 || err != nil {
		t.Errorf("Wait through the recorder = %d, %v; want the backend's 3, nil", n, err)
	}
	r.Close()
	rec, err := record.Read(&buf)
	if err != nil || len(rec.Calls) != 1 || rec.Calls[0].N != 2 || len(rec.Calls[0].Events) != 2 {
		t.Fatalf("read back: %v, %v; want one Wait with the 2 events its slice held", rec, err)
	}
}

// miscounting is a broken Sys whose reads say they moved -1 bytes with
// EAGAIN, and whose writes one byte more than they were given.
type miscounting struct{ *fake.Kernel }

func (miscounting) Read(int, []byte) (int, error)      { return -1, syscall.EAGAIN }
func (miscounting) Write(_ int, p []byte) (int, error) { return len(p) + 1, nil }

// TestBrokenIOCount: reads and writes whose counts fall outside their
// buffer are recorded with the nearest count inside it, and the
// recording reads back whole.
func TestBrokenIOCount(t *testing.T) {
	k := fake.New(fake.Config{})
	m, err := k.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var buf bytes.Buffer
	r, err := record.New(&buf, m, miscounting{k}, record.Config{Clock: k.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.Sys().Read(3, make([]byte, 8))
	r.Sys().Write(3, []byte("abc"))
	r.Close()
	rec, err := record.Read(&buf)
	if err != nil || len(rec.Calls) != 2 {
		t.Fatalf("read back: %v, %v; want the read and the write", rec, err)
	}
	if rd, wr := rec.Calls[0], rec.Calls[1]; rd.N != 0 || rd.Err != syscall.EAGAIN || wr.N != 3 || string(wr.Data) != "abc" {
		t.Errorf("recorded %v and %v; want a read of 0 bytes with EAGAIN and a write of the 3 given", rd, wr)
	}
}
