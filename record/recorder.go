package record

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
)

// Values of Config.Reads and Config.Writes.
const (
	AllBytes = 0  // keep every byte moved
	NoBytes  = -1 // keep only how many were moved and their checksum
)

// DefaultBlock is the size of a block of calls when Config.Block is zero.
const DefaultBlock = 64 << 10

// Config sets up a Recorder. The zero value keeps every byte and writes
// blocks of DefaultBlock bytes, timed by the real clock.
type Config struct {
	// Reads and Writes say how many of the bytes each read and each write
	// moved the recording keeps: AllBytes, NoBytes, or a positive n for
	// the first n. A recording always keeps how many were moved and a
	// CRC-32C of all of them, so a replay still compares what a write
	// asked to write; but a replay delivers only the bytes of reads kept,
	// and zeros in place of the rest.
	Reads, Writes int

	// Block is how many bytes of calls the recorder gathers before it
	// writes them out, with one Write: a crash loses the calls of the
	// block being gathered, at most. Zero means DefaultBlock.
	Block int

	// Clock is what the recorder times calls by, and what its Now calls
	// are counted from. Nil means time.Now, the clock of loop.OS; give a
	// fake kernel's Now to record a run on the fake in its virtual time.
	Clock func() time.Time
}

// A Recorder records the calls a loop makes through the Multiplexer and
// the Sys it wraps — each call, its arguments, its result and its time —
// to a writer, as it runs: give Mux and Sys to the loop in place of the
// ones wrapped. Close it when the loop is done.
//
// Recording costs each call a reading of the clock, the encoding of the
// call and a copy of the bytes it moved (or their checksum), under a
// mutex; every Config.Block bytes, one Write. If the writer fails, the
// Recorder stops recording, the loop's calls go on as before, and Err
// and Close return the error.
type Recorder struct {
	m   recMux
	sys recSys

	clock        func() time.Time
	start        time.Time
	reads, write int

	mu     sync.Mutex // guards the fields below
	enc    encoder
	closed bool
}

// New writes the header of a recording of m and sys to w and returns the
// Recorder. The header holds the time (on cfg.Clock) and what m says of
// itself (mux.Describe).
func New(w io.Writer, m mux.Multiplexer, sys loop.Sys, cfg Config) (*Recorder, error) {
	if m == nil || sys == nil {
		return nil, errors.New("record: New needs a Multiplexer and a Sys")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Block <= 0 {
		cfg.Block = DefaultBlock
	}
	r := &Recorder{clock: cfg.Clock, reads: cfg.Reads, write: cfg.Writes}
	r.m = recMux{r: r, m: m}
	r.sys = recSys{r: r, sys: sys}
	r.start = r.clock()
	r.enc = encoder{w: w, block: cfg.Block}
	h := Header{Version: version, Start: r.start, Backend: mux.Describe(m), Reads: cfg.Reads, Writes: cfg.Writes}
	if err := r.enc.start(&h); err != nil {
		return nil, err
	}
	return r, nil
}

// Mux returns the recording Multiplexer: it forwards every call to the
// one wrapped and records it. It describes itself as the wrapped one does.
func (r *Recorder) Mux() mux.Multiplexer { return &r.m }

// Sys returns the recording Sys: it forwards every call to the one
// wrapped and records it.
func (r *Recorder) Sys() loop.Sys { return &r.sys }

// Flush writes out the calls gathered so far.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.enc.flush()
}

// Err returns the error that stopped the recording, if the writer failed.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.enc.err
}

// Close writes out the calls gathered and stops recording; the
// Multiplexer and Sys go on forwarding calls, unrecorded. It does not
// close the writer, nor what was wrapped. It returns the writer's
// first error, if any.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.enc.flush()
	r.closed = true
	return err
}

// since returns the time since the start of the recording.
func (r *Recorder) since() time.Duration { return r.clock().Sub(r.start) }

// begin starts encoding a call of op made at at, and reports whether the
// Recorder records. If it does, r.mu is held until end.
func (r *Recorder) begin(op Op, at time.Duration) bool {
	r.mu.Lock()
	if r.closed || r.enc.err != nil {
		r.mu.Unlock()
		return false
	}
	r.enc.call(op, at)
	return true
}

// end ends the call begun, and writes a block if one is full.
func (r *Recorder) end() {
	r.enc.end()
	r.mu.Unlock()
}

// simple records a call whose fields are a descriptor (if its op names
// one) and an error.
func (r *Recorder) simple(op Op, at time.Duration, fd int, err error) {
	if r.begin(op, at) {
		if op.hasFD() {
			r.enc.int(fd)
		}
		r.enc.error(err)
		r.end()
	}
}

// recMux is the recording Multiplexer.
type recMux struct {
	r *Recorder
	m mux.Multiplexer
}

func (m *recMux) Info() mux.Info { return mux.Describe(m.m) }

func (m *recMux) Add(fd int, interest mux.Events) error {
	return m.interest(OpAdd, fd, interest, m.m.Add)
}

func (m *recMux) Modify(fd int, interest mux.Events) error {
	return m.interest(OpModify, fd, interest, m.m.Modify)
}

func (m *recMux) interest(op Op, fd int, interest mux.Events, call func(int, mux.Events) error) error {
	r := m.r
	at := r.since()
	err := call(fd, interest)
	if r.begin(op, at) {
		r.enc.int(fd)
		r.enc.uint(int(interest))
		r.enc.error(err)
		r.end()
	}
	return err
}

func (m *recMux) Remove(fd int) error {
	at := m.r.since()
	err := m.m.Remove(fd)
	m.r.simple(OpRemove, at, fd, err)
	return err
}

func (m *recMux) Wait(events []mux.Event, timeout time.Duration) (int, error) {
	r := m.r
	at := r.since()
	n, err := m.m.Wait(events, timeout)
	took := r.since() - at
	if r.begin(OpWait, at) {
		// A count outside events (a broken backend's) is recorded as the
		// events there are, not followed out of range.
		k := max(0, min(n, len(events)))
		r.enc.uint(len(events))
		r.enc.duration(timeout)
		r.enc.uduration(took)
		r.enc.uint(k)
		for _, ev := range events[:k] {
			r.enc.int(ev.FD)
			r.enc.uint(int(ev.Events))
		}
		r.enc.error(err)
		r.end()
	}
	return n, err
}

func (m *recMux) Wake() error {
	at := m.r.since()
	err := m.m.Wake()
	m.r.simple(OpWake, at, -1, err)
	return err
}

func (m *recMux) Close() error {
	at := m.r.since()
	err := m.m.Close()
	m.r.simple(OpMuxClose, at, -1, err)
	return err
}

// recSys is the recording Sys.
type recSys struct {
	r   *Recorder
	sys loop.Sys
}

func (s *recSys) Read(fd int, p []byte) (int, error) {
	r := s.r
	at := r.since()
	n, err := s.sys.Read(fd, p)
	if r.begin(OpRead, at) {
		r.io(fd, p, n, err, r.reads)
		r.end()
	}
	return n, err
}

func (s *recSys) Write(fd int, p []byte) (int, error) {
	r := s.r
	at := r.since()
	n, err := s.sys.Write(fd, p)
	if r.begin(OpWrite, at) {
		r.io(fd, p, n, err, r.write)
		r.end()
	}
	return n, err
}

// io encodes the fields of a read or a write of p that moved n bytes.
// A count outside p (a broken Sys's, such as -1 with an error) is
// recorded as the nearest count inside it, so that the recording stays
// readable.
func (r *Recorder) io(fd int, p []byte, n int, err error, keep int) {
	n = max(0, min(n, len(p)))
	r.enc.int(fd)
	r.enc.int(len(p))
	r.enc.int(n)
	r.enc.error(err)
	r.enc.data(p[:n], keep)
}

func (s *recSys) Close(fd int) error {
	at := s.r.since()
	err := s.sys.Close(fd)
	s.r.simple(OpClose, at, fd, err)
	return err
}

func (s *recSys) SockErr(fd int) error {
	at := s.r.since()
	err := s.sys.SockErr(fd)
	s.r.simple(OpSockErr, at, fd, err)
	return err
}

func (s *recSys) Accept(fd int) (int, error) {
	r := s.r
	at := r.since()
	nfd, err := s.sys.Accept(fd)
	if r.begin(OpAccept, at) {
		r.enc.int(fd)
		r.enc.int(nfd)
		r.enc.error(err)
		r.end()
	}
	return nfd, err
}

func (s *recSys) Dial(addr string) (int, error) {
	return s.open(OpDial, addr, s.sys.Dial)
}

func (s *recSys) Listen(addr string) (int, error) {
	return s.open(OpListen, addr, s.sys.Listen)
}

func (s *recSys) open(op Op, addr string, call func(string) (int, error)) (int, error) {
	r := s.r
	at := r.since()
	fd, err := call(addr)
	if r.begin(op, at) {
		r.enc.str(addr)
		r.enc.int(fd)
		r.enc.error(err)
		r.end()
	}
	return fd, err
}

// Now returns the wrapped Sys's reading and records it, counted from the
// start of the recording, as the call's time.
func (s *recSys) Now() time.Time {
	t := s.sys.Now()
	if s.r.begin(OpNow, t.Sub(s.r.start)) {
		s.r.end()
	}
	return t
}
