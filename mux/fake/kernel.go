package fake

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Defaults for the zero values of Config's fields.
const (
	DefaultBuffer   = 64 << 10 // bytes per direction of a pair, pipe or connection
	DefaultLatency  = time.Millisecond
	DefaultFDLimit  = 1 << 16
	DefaultBusyLoop = 100
	DefaultTrace    = 1024

	// DefaultHorizon is the virtual time after which a Wait fails instead
	// of moving the clock further. An hour is longer than any timeout a
	// test of network code waits for (connects, reads, idle and keep-alive
	// timers run to seconds or minutes), and short enough that a loop which
	// never stops, waiting a millisecond at a time, reaches it after 3.6
	// million Waits: a few seconds of real time, not a hung test.
	DefaultHorizon = time.Hour

	// DefaultStall is the real time a Wait with no timeout, nothing ready
	// and nothing scheduled blocks while no goroutine calls the kernel at
	// all, before it fails. Ten seconds is far longer than a goroutine of a
	// test takes to make its next call, even on a loaded machine under the
	// race detector; inside a testing/synctest bubble it is the bubble's
	// time, which passes at once when every goroutine is blocked.
	DefaultStall = 10 * time.Second
)

// The values of Shutdown's how. They are those of Linux's SHUT_RD,
// SHUT_WR and SHUT_RDWR, so unix.SHUT_WR and the others work too.
const (
	ShutRead      = 0
	ShutWrite     = 1
	ShutReadWrite = 2
)

// pipeBuf is PIPE_BUF: pipe writes up to this size are atomic.
const pipeBuf = 4096

// firstFD is the lowest number the kernel gives out: 0, 1 and 2 belong to
// standard input, output and error in a real process.
const firstFD = 3

// Epoch is the virtual instant at which every Kernel's clock starts unless
// Config.Start says otherwise.
var Epoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// Config sets up a Kernel. The zero value is usable: seed 0, no faults,
// default buffer sizes and latency, events in descriptor order, and a
// kernel that fails a Wait rather than let a test hang (see BusyLoop,
// Horizon and Stall).
type Config struct {
	// Seed seeds the one source of every choice the kernel makes (see
	// Chooser). The same seed and the same calls give the same run, trace
	// and hash.
	Seed uint64

	// Choices, if not nil, makes every choice instead of Seeded(Seed):
	// fakerapid.Choices(t) draws them from a rapid.T, so that rapid
	// shrinks a failing run to a minimal schedule of faults. Seed then
	// only seeds the trace hash.
	Choices Chooser

	// Buffer is the capacity in bytes of each direction of a stream
	// connection and of a pipe. Zero means DefaultBuffer.
	Buffer int

	// Latency is how long, in virtual time, a non-blocking Connect stays
	// in progress before it completes or fails. Zero means
	// DefaultLatency; a negative value means none (the connect completes
	// at the next Wait or Advance).
	Latency time.Duration

	// Delay is how long bytes written on a connection made by Connect and
	// Accept take to become readable at the other end, and Jitter the
	// most that is added to it for each write, drawn from the seed. Bytes
	// still arrive in the order they were written, and an end of stream
	// or a reset arrives after them. Zero means at once. SetDelay changes
	// them for one direction of one connection.
	Delay, Jitter time.Duration

	// Start is the virtual clock's reading when the kernel is made. The
	// zero value means Epoch.
	Start time.Time

	// FDLimit bounds the number of open descriptors, like RLIMIT_NOFILE:
	// allocating beyond it fails with EMFILE. Zero means DefaultFDLimit.
	FDLimit int

	// Shuffle makes Wait report the events of a batch in an order drawn
	// from the seed instead of in ascending descriptor order.
	Shuffle bool

	// BusyLoop is the number of Waits after which a busy loop fails the
	// Wait with an error wrapping *BusyLoopError: consecutive Waits with
	// the same report and no progress at all, or consecutive Waits that
	// report a descriptor the loop never acts on. Zero means
	// DefaultBusyLoop; a negative value turns detection off.
	BusyLoop int

	// Horizon is the virtual time, counted from the kernel's start, that
	// no Wait moves the clock past: a Wait that would have to (its
	// deadline, or the next scheduled instant, lies beyond it, and nothing
	// is ready before) fails with an error wrapping *HorizonError. Zero
	// means DefaultHorizon; a negative value means none. Advance is not
	// bound by it.
	Horizon time.Duration

	// Stall bounds, in real time, how long a Wait with no timeout blocks
	// when nothing is ready, nothing is scheduled and no goroutine calls
	// the kernel: then it fails with an error wrapping *StallError. Zero
	// means DefaultStall; a negative value means forever.
	Stall time.Duration

	// Settle, if set, returns once every goroutine that may call the
	// kernel, other than its caller, is blocked. The kernel calls it while
	// it runs the goroutines of peers (Conn and Listener), so that they
	// run one at a time, and only while a Wait or Advance is in progress:
	// a run is then a function of the seed. Inside a testing/synctest
	// bubble, pass synctest.Wait. Nil means peer goroutines run whenever
	// the Go scheduler runs them, as against a real kernel.
	Settle func()

	// Trace is how many of the most recent Records Trace keeps. The hash
	// covers every call regardless. Zero means DefaultTrace; a negative
	// value keeps every record, as RunTwice does to compare two runs.
	Trace int

	// Faults are the faults switched on from the start. SetFaults changes
	// them later.
	Faults Faults
}

// A Kernel is a simulated operating system: a descriptor table, stream
// connections, pipes, regular files, a tiny network of named listeners and
// a virtual clock. Its methods behave like the system calls of the same
// names on non-blocking descriptors and return syscall.Errno errors
// (syscall.EAGAIN, syscall.EPIPE, …, which are the values of
// golang.org/x/sys/unix too), so code written for the OS runs unchanged.
//
// A Kernel is safe for concurrent use.
type Kernel struct {
	mu       sync.Mutex
	cond     sync.Cond // signalled, with mu, whenever state changes; blocked Waits and peers wait on it
	sleepers int       // goroutines waiting on cond; guarded by mu

	// Fixed at New.
	epoch   time.Time
	bufSize int
	delay   time.Duration
	jitter  time.Duration
	fdLimit int
	shuffle bool
	busyMax int
	horizon time.Duration // noHorizon when none
	stall   time.Duration // 0 when none
	settle  func()

	// The fields below are guarded by mu.
	latency   time.Duration // of the connects started from now on (SetLatency)
	chooser   Chooser
	faults    Faults
	odds      [numFaults]float64 // the probability of each fault, from faults
	ioFaults  bool               // a fault of Read or Write is on: Reset, Again, ShortRead or ShortWrite
	chances   [numFaults]int     // opportunities of each fault since SetFaults, for Faults.Nth
	files     []*file            // indexed by descriptor; nil when free
	lastCall  []uint64           // indexed by descriptor: Seq of the last call made on it
	watchers  [][]*Mux           // indexed by descriptor: the Multiplexers it is added to
	nopen     int
	listeners map[string]*file
	port      int           // the last ephemeral port given out
	now       time.Duration // virtual time since epoch
	timers    []timer       // ordered by (at, seq)
	inTimer   int           // functions given to At or After running
	timerSeq  uint64
	progress  uint64 // bumped by every change of state; see busy-loop detection
	trace     tracer
	busyErr   error
	reuse     reuseFault
	fired     [numFaults]int  // times each fault fired
	armed     [numFaults]bool // faults switched on at some time
	injected  []Injection     // every fault that fired, in order
	pending   int             // injected[pending:] wait for the call they hit
	peers     peers

	// Checks of the code under test.
	streams    []*stream   // declared conserved
	violations []Violation // in order
	stales     []staleUse  // numbers the Reuse fault gave away, still stale
}

// New returns a Kernel set up by cfg.
func New(cfg Config) *Kernel {
	k := &Kernel{
		epoch:     cfg.Start,
		bufSize:   cfg.Buffer,
		latency:   cfg.Latency,
		delay:     max(cfg.Delay, 0),
		jitter:    max(cfg.Jitter, 0),
		fdLimit:   cfg.FDLimit,
		shuffle:   cfg.Shuffle,
		busyMax:   cfg.BusyLoop,
		horizon:   cfg.Horizon,
		stall:     cfg.Stall,
		settle:    cfg.Settle,
		chooser:   cfg.Choices,
		listeners: map[string]*file{},
		port:      firstPort - 1,
	}
	k.cond.L = &k.mu
	if k.epoch.IsZero() {
		k.epoch = Epoch
	}
	if k.chooser == nil {
		k.chooser = Seeded(cfg.Seed)
	}
	k.setFaults(cfg.Faults)
	if k.bufSize <= 0 {
		k.bufSize = DefaultBuffer
	}
	if k.latency == 0 {
		k.latency = DefaultLatency
	} else if k.latency < 0 {
		k.latency = 0
	}
	if k.fdLimit <= 0 {
		k.fdLimit = DefaultFDLimit
	}
	if k.busyMax == 0 {
		k.busyMax = DefaultBusyLoop
	}
	switch {
	case k.horizon == 0:
		k.horizon = DefaultHorizon
	case k.horizon < 0:
		k.horizon = noHorizon
	}
	switch {
	case k.stall == 0:
		k.stall = DefaultStall
	case k.stall < 0:
		k.stall = 0
	}
	n := cfg.Trace
	if n == 0 {
		n = DefaultTrace
	}
	k.trace.init(n, cfg.Seed)
	return k
}

// kind is what a descriptor refers to.
type kind uint8

const (
	kindStream   kind = iota + 1 // a stream socket: fresh, connecting, connected or closed
	kindPipeR                    // the read end of a pipe
	kindPipeW                    // the write end of a pipe
	kindFile                     // a regular file
	kindListener                 // a listening socket
	kindMux                      // a Multiplexer's own descriptor
)

var kindNames = [...]string{
	kindStream:   "socket",
	kindPipeR:    "pipe (read end)",
	kindPipeW:    "pipe (write end)",
	kindFile:     "file",
	kindListener: "listener",
	kindMux:      "multiplexer",
}

// sockState is the state of a stream socket.
type sockState uint8

const (
	sockFresh      sockState = iota // made by Socket, not yet connected
	sockConnecting                  // Connect in progress
	sockConnected                   // connected (pairs and accepted sockets start here)
	sockClosed                      // reset, refused, or released by Close
)

// file is an open file description. All fields are guarded by Kernel.mu.
type file struct {
	// What Read, Write and readiness look at, first, in one cache line.
	kind      kind
	state     sockState     // streams
	tcp       bool          // a TCP socket (Socket, Accept); false for Pair's AF_UNIX ones
	rdShut    bool          // shutdown(SHUT_RD) on this end
	wrShut    bool          // shutdown(SHUT_WR) on this end
	spared    bool          // a peer's descriptor: faults never fire on it
	forced    mux.Events    // readiness set by SetReady, ORed into the computed one
	watched   int32         // Multiplexers that have fd added: len(Kernel.watchers[fd])
	conserved bool          // out or in is not empty
	nospace   bool          // a write found no room since the peer last freed some (see Kernel.freed)
	fd        int           // the number it is open as, or -1 (queued for Accept, released)
	rx        *buffer       // what this end reads (nil for a pipe's write end)
	tx        *buffer       // what this end writes (nil for a pipe's read end)
	peer      *file         // the other end of a stream connection, or nil
	err       syscall.Errno // pending socket error (SO_ERROR)

	local  string // address of this end (sockets)
	remote string // address of the other end (connected sockets)

	// Listeners.
	addr    string
	backlog []*file // connected server ends waiting for Accept
	serve   func(fd int) Handler

	// Regular files.
	data []byte
	off  int

	// Multiplexers.
	mux *Mux

	// Peers: the handler the kernel runs for this descriptor, and a digest
	// of the state it last left the descriptor in.
	handler Handler
	told    uint64

	// Streams declared conserved (Conserve) that this file writes, and
	// reads.
	out, in []*stream
}

// buffer is one direction of a connection or pipe. All fields are guarded
// by Kernel.mu.
type buffer struct {
	// What readiness reads, first, in one cache line: Wait asks it of
	// every added descriptor.
	data    []byte // written and not yet read: data[off:]
	off     int
	arrived int // bytes at the start of data[off:] that have arrived: only they can be read
	cap     int
	fin     bool // the writer's end of stream has arrived: end of file once drained
	gone    bool // the reader shut down or closed: AF_UNIX and pipe writes fail with EPIPE

	read     int64   // bytes read so far
	written  int64   // bytes written so far
	urgentAt int64   // stream offset of the last urgent byte, or -1
	ends     []int64 // AF_UNIX: where each write not yet read to its end ends, as stream offsets
	dst      *file   // the reading end
	src      *file   // the writing end, or nil while there is none (a socket not yet connected)

	// TCP delivery: what is on the way, in order, and how long it takes.
	delay, jitter time.Duration
	flight        []arrival
}

// arrival is something on its way through a buffer: bytes, then possibly
// an end of stream or a reset.
type arrival struct {
	at       time.Duration
	n        int
	fin, rst bool
}

func (k *Kernel) newBuffer(dst *file) *buffer {
	return &buffer{cap: k.bufSize, urgentAt: -1, dst: dst}
}

func (b *buffer) len() int   { return b.arrived }
func (b *buffer) space() int { return b.cap - (len(b.data) - b.off) }

// append stores p as written; it has not arrived yet.
func (b *buffer) append(p []byte) {
	if b.off > 0 && cap(b.data)-len(b.data) < len(p) {
		n := copy(b.data, b.data[b.off:])
		b.data = b.data[:n]
		b.off = 0
	}
	b.data = append(b.data, p...)
	b.written += int64(len(p))
}

func (b *buffer) readInto(p []byte) int {
	n := copy(p, b.data[b.off:b.off+b.arrived])
	b.off += n
	b.arrived -= n
	b.read += int64(n)
	if b.off == len(b.data) {
		b.data = b.data[:0]
		b.off = 0
	}
	return n
}

// discard drops everything written and not yet read, arrived or not.
func (b *buffer) discard() {
	b.read += int64(len(b.data) - b.off)
	b.data = b.data[:0]
	b.off = 0
	b.arrived = 0
	b.flight = nil
	b.ends = b.ends[:0]
}

// finished drops the ends of the writes that reads have now reached, and
// reports whether there were any: on an AF_UNIX socket, Linux frees a
// write's buffer once its last byte is read, and tells the writer.
func (b *buffer) finished() bool {
	i := 0
	for i < len(b.ends) && b.ends[i] <= b.read {
		i++
	}
	if i == 0 {
		return false
	}
	b.ends = b.ends[:copy(b.ends, b.ends[i:])]
	return true
}

// urgent reports whether an urgent byte has arrived and is still unread.
func (b *buffer) urgent() bool {
	return b.urgentAt >= b.read && b.urgentAt < b.read+int64(b.arrived)
}

// alloc gives f the lowest free descriptor number. k.mu is held.
func (k *Kernel) alloc(f *file) (int, error) {
	if k.nopen >= k.fdLimit {
		return -1, syscall.EMFILE
	}
	for len(k.files) < firstFD {
		k.files = append(k.files, nil)
	}
	fd := firstFD
	for fd < len(k.files) && k.files[fd] != nil {
		fd++
	}
	if fd == len(k.files) {
		k.files = append(k.files, nil)
	}
	k.give(fd, f)
	return fd, nil
}

// give makes the free number fd name f. k.mu is held.
func (k *Kernel) give(fd int, f *file) {
	k.files[fd] = f
	f.fd = fd
	f.watched = 0
	if fd < len(k.watchers) {
		f.watched = int32(len(k.watchers[fd]))
	}
	k.nopen++
	k.wakeFD(fd, 0) // a watched number names another file
}

// lookup returns the file open as fd, or nil. k.mu is held.
func (k *Kernel) lookup(fd int) *file {
	if fd < 0 || fd >= len(k.files) {
		return nil
	}
	return k.files[fd]
}

// changed records that state changed: it counts progress for the
// busy-loop detector and wakes blocked Waits and peers. k.mu is held.
func (k *Kernel) changed() {
	k.progress++
	if k.sleepers > 0 { // a Broadcast to nobody still costs a Read a good part of its time
		k.cond.Broadcast()
	}
}

// sleep waits on k.cond until something changes. k.mu is held.
func (k *Kernel) sleep() {
	k.sleepers++
	k.cond.Wait()
	k.sleepers--
}

// enter is called first, with k.mu held, by every operation that code
// under test makes. It carries out a pending fd-reuse fault.
func (k *Kernel) enter() {
	if k.reuse.f != nil {
		k.doReuse()
	}
}

// Pair returns a connected pair of stream sockets, like socketpair(2)
// with AF_UNIX: no delays, and Linux's AF_UNIX semantics.
func (k *Kernel) Pair() (a, b int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	a, b, err = k.pair()
	k.record(opPair, a, int64(b), 0, err)
	return a, b, err
}

func (k *Kernel) pair() (int, int, error) {
	x, y := k.connection(false)
	a, err := k.alloc(x)
	if err != nil {
		return -1, -1, err
	}
	b, err := k.alloc(y)
	if err != nil {
		k.release(a)
		return -1, -1, err
	}
	k.changed()
	return a, b, nil
}

// connection returns the two connected ends of a stream connection, not yet
// given numbers.
func (k *Kernel) connection(tcp bool) (x, y *file) {
	x = &file{kind: kindStream, state: sockConnected, tcp: tcp, fd: -1}
	y = &file{kind: kindStream, state: sockConnected, tcp: tcp, fd: -1}
	x.rx, y.rx = k.newBuffer(x), k.newBuffer(y)
	x.tx, y.tx = y.rx, x.rx
	x.rx.src, y.rx.src = y, x
	x.peer, y.peer = y, x
	return x, y
}

// Pipe returns the read and write ends of a pipe, like pipe2(2).
func (k *Kernel) Pipe() (r, w int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	rf := &file{kind: kindPipeR}
	rf.rx = k.newBuffer(rf)
	r, err = k.alloc(rf)
	if err == nil {
		wf := &file{kind: kindPipeW, tx: rf.rx}
		rf.rx.src = wf
		w, err = k.alloc(wf)
		if err != nil {
			k.release(r)
		}
	}
	if err != nil {
		r, w = -1, -1
	} else {
		k.changed()
	}
	k.record(opPipe, r, int64(w), 0, err)
	return r, w, err
}

// File returns a descriptor of a new, empty regular file. Like poll(2),
// a Multiplexer reports regular files always Readable and Writable.
func (k *Kernel) File() (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	fd, err := k.alloc(&file{kind: kindFile})
	if err == nil {
		k.changed()
	}
	k.record(opFile, fd, 0, 0, err)
	return fd, err
}

// Read reads from fd into p, like read(2) on a non-blocking descriptor. It
// returns syscall.EAGAIN when nothing is there yet, (0, nil) at end of
// file, and a pending socket error once (see Reset). n is never negative.
func (k *Kernel) Read(fd int, p []byte) (n int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	n, err = k.readLocked(fd, p)
	return n, err
}

func (k *Kernel) readLocked(fd int, p []byte) (int, error) {
	f := k.lookup(fd)
	n, err, moved := k.read(f, fd, p)
	if moved {
		k.changed()
	}
	e := k.record(opRead, fd, int64(len(p)), n, err)
	if n > 0 && f.conserved {
		k.readOn(f, fd, p[:n], k.trace.record(e))
	}
	return n, err
}

// read reads from f, open as fd (nil if fd is not open), and reports
// whether it changed anything: moved bytes or consumed a pending error.
func (k *Kernel) read(f *file, fd int, p []byte) (int, error, bool) {
	if f == nil {
		return 0, syscall.EBADF, false
	}
	switch f.kind {
	case kindFile:
		if f.off >= len(f.data) {
			return 0, nil, false
		}
		n := copy(p, f.data[f.off:])
		f.off += n
		return n, nil, n > 0
	case kindPipeW:
		return 0, syscall.EBADF, false
	case kindListener:
		return 0, syscall.ENOTCONN, false
	case kindMux:
		return 0, syscall.EINVAL, false
	case kindStream:
		switch f.state {
		case sockFresh:
			return 0, syscall.ENOTCONN, false
		case sockConnecting:
			return 0, syscall.EAGAIN, false
		}
	}
	b := f.rx
	if b.len() == 0 {
		// TCP reports end of file before a pending error once the peer's
		// FIN has arrived (Linux checks SOCK_DONE first); AF_UNIX the
		// error first.
		if f.tcp && b.fin {
			return 0, nil, false
		}
		if f.err != 0 {
			err := f.err
			f.err = 0
			k.touch(f)
			return 0, err, true
		}
		if b.fin || f.rdShut || f.state == sockClosed {
			return 0, nil, false
		}
		return 0, syscall.EAGAIN, false
	}
	if len(p) == 0 {
		return 0, nil, false
	}
	want := min(len(p), b.len())
	if k.ioFaults {
		if f.kind == kindStream && f.state == sockConnected && k.fire(faultReset, f, nil) {
			k.abort(f) // the bytes that had arrived are still read first, as after a real RST
		}
		if k.fire(faultAgain, f, nil) {
			// The data is still there: an edge-triggered registration is
			// told again, or a loop that reads until EAGAIN would never be.
			k.wake(f, mux.Readable)
			return 0, syscall.EAGAIN, false
		}
		if want > 1 && k.fire(faultShortRead, f, nil) {
			want = 1 + int(k.chooseN(ChooseSize, faultShortRead, fd, int64(want-1)))
			// Linux never stops a stream read short of the bytes queued,
			// so a short read may be taken for a drain: the rest is an
			// edge, or an edge-triggered loop right on Linux is stranded.
			k.wake(f, mux.Readable)
		}
	}
	n := b.readInto(p[:want])
	finished := len(b.ends) > 0 && b.finished()
	if b.dst.watched > 0 || b.src != nil && b.src.watched > 0 {
		k.touchBuf(b)
		k.freed(b, finished)
	}
	return n, nil, true
}

// Write writes p to fd, like write(2) on a non-blocking descriptor. It
// writes what fits and returns syscall.EAGAIN only when nothing fits
// (pipe writes of up to 4096 bytes are all or nothing, as PIPE_BUF makes
// them), and syscall.EPIPE once the writing side is shut. n is never
// negative.
func (k *Kernel) Write(fd int, p []byte) (n int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	return k.writeLocked(fd, p)
}

func (k *Kernel) writeLocked(fd int, p []byte) (int, error) {
	n, err, moved := k.write(fd, p)
	if moved {
		k.changed()
	}
	k.record(opWrite, fd, int64(len(p)), n, err)
	return n, err
}

func (k *Kernel) write(fd int, p []byte) (int, error, bool) {
	f := k.lookup(fd)
	if f == nil {
		return 0, syscall.EBADF, false
	}
	switch f.kind {
	case kindFile:
		end := f.off + len(p)
		if end > len(f.data) {
			f.data = append(f.data, make([]byte, end-len(f.data))...)
		}
		copy(f.data[f.off:], p)
		f.off = end
		return len(p), nil, len(p) > 0
	case kindPipeR:
		return 0, syscall.EBADF, false
	case kindListener:
		return 0, syscall.EPIPE, false
	case kindMux:
		return 0, syscall.EINVAL, false
	case kindStream:
		switch f.state {
		case sockFresh:
			return 0, syscall.EPIPE, false
		case sockConnecting:
			return 0, syscall.EAGAIN, false
		}
		if f.state == sockConnected && len(p) > 0 && k.fire(faultReset, f, nil) {
			k.abort(f)
		}
		if f.tcp && f.err != 0 { // TCP returns (and clears) a pending error; AF_UNIX does not
			err := f.err
			f.err = 0
			k.touch(f)
			return 0, err, true
		}
		if f.state == sockClosed || f.wrShut || !f.tcp && f.tx.gone {
			return 0, syscall.EPIPE, false
		}
	}
	b := f.tx
	if f.kind == kindPipeW && b.gone {
		return 0, syscall.EPIPE, false
	}
	if len(p) == 0 {
		return 0, nil, false
	}
	if f.tcp && b.gone {
		// The peer is closed: TCP takes the bytes, and the peer's kernel
		// answers them with a reset.
		k.send(f.rx, arrival{rst: true})
		return len(p), nil, true
	}
	space := b.space() // below zero when SetReceiveBuffer shrank b under what it holds
	if space <= 0 || f.kind == kindPipeW && len(p) <= pipeBuf && space < len(p) {
		f.nospace = true
		return 0, syscall.EAGAIN, false
	}
	if k.fire(faultAgain, f, nil) {
		k.wake(f, mux.Writable) // the room is still there: see read's
		return 0, syscall.EAGAIN, false
	}
	n := min(len(p), space)
	if n > 1 && !(f.kind == kindPipeW && len(p) <= pipeBuf) && k.fire(faultShortWrite, f, nil) {
		n = 1 + int(k.chooseN(ChooseSize, faultShortWrite, fd, int64(n-1)))
		// Linux writes short only when the buffer is full, and tells the
		// writer when room is freed: with room left, that is now.
		k.wake(f, mux.Writable)
	}
	b.append(p[:n])
	if f.conserved {
		k.wrote(f, p[:n])
	}
	if f.kind == kindStream && !f.tcp {
		b.ends = append(b.ends, b.written)
	}
	if f.kind == kindPipeW && b.space() == 0 {
		f.nospace = true // Linux wakes the writer of a pipe that was full
	}
	k.touch(f)
	k.send(b, arrival{n: n})
	return n, nil, true
}

// Urgent sends one byte of urgent (out-of-band) data, the byte '!', on the
// stream socket fd. The kernel models SO_OOBINLINE: the byte arrives in
// line, and the peer is Priority until it has read past it.
func (k *Kernel) Urgent(fd int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	err := k.urgent(fd)
	if err == nil {
		k.changed()
	}
	k.record(opUrgent, fd, 0, 0, err)
	return err
}

func (k *Kernel) urgent(fd int) error {
	f := k.lookup(fd)
	switch {
	case f == nil:
		return syscall.EBADF
	case f.kind != kindStream:
		return syscall.EOPNOTSUPP
	case f.state != sockConnected:
		return syscall.ENOTCONN
	case f.wrShut || f.tx.gone:
		return syscall.EPIPE
	case f.tx.space() <= 0:
		return syscall.EAGAIN
	}
	f.tx.urgentAt = f.tx.written
	f.tx.append([]byte{'!'})
	if !f.tcp {
		f.tx.ends = append(f.tx.ends, f.tx.written)
	}
	if f.conserved {
		k.wrote(f, []byte{'!'})
	}
	k.touch(f)
	k.send(f.tx, arrival{n: 1})
	return nil
}

// Shutdown shuts down part of a stream connection, like shutdown(2): how
// is ShutRead, ShutWrite or ShutReadWrite. After ShutWrite the peer reads
// end of file once what was written is drained. After ShutRead reads
// return end of file once the buffer is drained; on a TCP socket the
// peer's writes still go through (and can still be read), on an AF_UNIX
// one they fail with EPIPE.
func (k *Kernel) Shutdown(fd, how int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	err := k.shutdown(fd, how)
	if err == nil {
		k.changed()
	}
	k.record(opShutdown, fd, int64(how), 0, err)
	return err
}

// ShutdownWrite shuts down the writing side of fd: Shutdown(fd,
// ShutWrite).
func (k *Kernel) ShutdownWrite(fd int) error { return k.Shutdown(fd, ShutWrite) }

func (k *Kernel) shutdown(fd, how int) error {
	f := k.lookup(fd)
	switch {
	case f == nil:
		return syscall.EBADF
	case f.kind == kindListener:
		return syscall.ENOTCONN
	case f.kind != kindStream:
		return syscall.ENOTSOCK
	case how != ShutRead && how != ShutWrite && how != ShutReadWrite:
		return syscall.EINVAL
	case f.state != sockConnected:
		return syscall.ENOTCONN
	}
	k.touchBuf(f.rx) // this end, and the peer's writing side
	// Linux tells this end of its own shutdown, and an AF_UNIX peer of
	// either direction's (a TCP peer hears of SHUT_WR by the FIN).
	k.wake(f, 0)
	if !f.tcp {
		k.wake(f.peer, 0)
	}
	if how != ShutWrite {
		f.rdShut = true
		if !f.tcp {
			f.rx.gone = true
		}
	}
	if how != ShutRead && !f.wrShut {
		f.wrShut = true
		k.send(f.tx, arrival{fin: true})
	}
	return nil
}

// Close closes fd, like close(2). Closing one end of a connection sends
// the peer an end of file, or, if this end left data unread, a reset:
// on TCP the peer reads what had arrived and then ECONNRESET; on AF_UNIX
// likewise. A TCP peer that writes to a closed end gets its bytes
// accepted, then a reset (EPIPE as its pending error once it has read the
// end of file, ECONNRESET before). Closing a Multiplexer's descriptor
// closes the Multiplexer.
func (k *Kernel) Close(fd int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	return k.closeLocked(fd)
}

func (k *Kernel) closeLocked(fd int) error {
	var err error
	if f := k.lookup(fd); f == nil {
		err = syscall.EBADF
	} else if f.kind == kindMux {
		f.mux.closeLocked()
	} else {
		k.release(fd)
	}
	k.record(opClose, fd, 0, 0, err)
	return err
}

// release frees fd and tears down what it referred to. k.mu is held.
func (k *Kernel) release(fd int) {
	f := k.files[fd]
	k.files[fd] = nil
	k.nopen--
	f.fd = -1
	k.wakeFD(fd, 0) // closed while added: reported with Error
	k.teardown(f)
	k.peers.drop(fd)
	k.changed()
}

// teardown ends what a closed file referred to. k.mu is held.
func (k *Kernel) teardown(f *file) {
	f.forced = 0
	f.handler = nil
	switch f.kind {
	case kindStream:
		connected := f.state == sockConnected
		f.state = sockClosed // a connect in progress never completes
		unread := len(f.rx.data) > f.rx.off
		f.rx.discard()
		f.rx.gone = true
		if connected && !f.tcp {
			k.wake(f.peer, 0) // a TCP peer hears of the close by the FIN or RST below
		} else {
			k.touch(f.peer)
		}
		switch {
		case !connected:
		case f.tcp && unread:
			k.send(f.tx, arrival{rst: true})
		case f.tcp && !f.wrShut:
			k.send(f.tx, arrival{fin: true})
		case !f.tcp:
			if unread && f.peer.state == sockConnected {
				f.peer.err = syscall.ECONNRESET
			}
			f.tx.fin = true
		}
	case kindPipeR:
		f.rx.gone = true
		f.rx.discard()
		k.wake(f.rx.src, 0)
	case kindPipeW:
		f.tx.fin = true
		k.wake(f.tx.dst, 0)
	case kindListener:
		delete(k.listeners, f.addr)
		for _, c := range f.backlog {
			// Linux resets the connections that were never accepted.
			c.state = sockClosed
			c.rx.discard()
			c.rx.gone = true
			k.send(c.tx, arrival{rst: true})
		}
		f.backlog = nil
	}
}

// Reset resets the connection fd belongs to, as when a TCP RST reaches
// both of its ends: each end keeps and can read the bytes that had
// arrived before it, then reads its pending error (ECONNRESET, or EPIPE
// for a TCP end that had read the peer's end of stream without shutting
// down its own writing side, as Linux does), then end of file; writes
// fail with EPIPE. Both ends are then Readable, Writable, ReadHangup and
// Hangup, and Error while the error is pending. Both descriptors stay
// open.
func (k *Kernel) Reset(fd int) error {
	return k.call(opReset, fd, 0, func(f *file) error {
		switch {
		case f.kind != kindStream:
			return syscall.ENOTSOCK
		case f.state != sockConnected:
			return syscall.ENOTCONN
		}
		k.abort(f)
		return nil
	})
}

// call makes a call on fd that needs it open: it takes the lock, looks fd
// up (EBADF if it is not open), runs act, and records o with act's
// result.
func (k *Kernel) call(o op, fd int, arg int64, act func(f *file) error) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	err := error(syscall.EBADF)
	if f := k.lookup(fd); f != nil {
		err = act(f)
	}
	k.record(o, fd, arg, 0, err)
	return err
}

// abort resets f's connection at both ends, each after what is on its
// way to it. k.mu is held.
func (k *Kernel) abort(f *file) {
	k.send(f.rx, arrival{rst: true})
	k.send(f.tx, arrival{rst: true})
}

// gotReset is a reset reaching f. k.mu is held.
func (k *Kernel) gotReset(f *file) {
	if f.state != sockConnected {
		return // Linux ignores a reset on a closed socket
	}
	f.err = syscall.ECONNRESET
	if f.tcp && f.rx.fin && !f.wrShut {
		f.err = syscall.EPIPE // CLOSE_WAIT
	}
	f.state = sockClosed
	k.cut(f)
	k.wake(f, 0)
	k.changed()
}

// SockErr returns and clears fd's pending socket error, like
// getsockopt(fd, SOL_SOCKET, SO_ERROR): nil after a connect that
// succeeded, syscall.ECONNREFUSED after one that failed, syscall.EBADF or
// syscall.ENOTSOCK when fd is not a socket. A pending error is returned as
// a syscall.Errno.
func (k *Kernel) SockErr(fd int) error {
	return k.call(opSockErr, fd, 0, func(f *file) error {
		switch {
		case f.kind != kindStream && f.kind != kindListener:
			return syscall.ENOTSOCK
		case f.err == 0:
			return nil
		}
		err := f.err
		f.err = 0
		k.touch(f)
		k.changed()
		return err
	})
}

// SetReady forces readiness on fd for scripted tests: every Wait reports
// ev (within the interest, plus any reported-only conditions in ev) on top
// of what fd really is, until SetReady(fd, 0) or until fd is closed. It
// changes nothing else: a Read after a forced Readable on an empty socket
// still returns EAGAIN.
func (k *Kernel) SetReady(fd int, ev mux.Events) error {
	return k.call(opSetReady, fd, int64(ev), func(f *file) error {
		f.forced = ev & mux.All
		k.wake(f, 0)
		k.changed()
		return nil
	})
}

// Descriptors lists the open descriptors and what each refers to, such as
// "socket", "pipe (read end)" or "multiplexer". The error is always nil:
// the signature is that of conformance.FDs.
func (k *Kernel) Descriptors() (map[int]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := make(map[int]string, k.nopen)
	for fd, f := range k.files {
		if f != nil {
			m[fd] = kindNames[f.kind]
		}
	}
	return m, nil
}

// errNoCloexec is CloseOnExec's answer.
var errNoCloexec = fmt.Errorf("fake: descriptors have no close-on-exec flag: %w", errors.ErrUnsupported)

// CloseOnExec returns an error wrapping errors.ErrUnsupported: the fake's
// descriptors are never inherited by a child process, so they have no
// such flag. It is there for conformance.FDs.
func (k *Kernel) CloseOnExec(fd int) (bool, error) { return false, errNoCloexec }

// readiness returns what f is ready for now, as the OS backends report it:
// Hangup and Error come with Readable and Writable (a read or write would
// not block), ReadHangup with Readable. k.mu is held.
func (k *Kernel) readiness(f *file) mux.Events {
	if f.kind == kindStream && f.state == sockConnected && f.err == 0 && f.forced == 0 &&
		!f.rdShut && !f.wrShut && !f.rx.fin && !f.tx.gone {
		// An open connection, the common case by far: nothing to
		// normalise, and Wait asks this of every added descriptor.
		var ev mux.Events
		if f.rx.arrived > 0 {
			ev = mux.Readable
			if f.rx.urgent() {
				ev |= mux.Priority
			}
		}
		if f.tx.space() > 0 {
			ev |= mux.Writable
		}
		return ev
	}
	var ev mux.Events
	switch f.kind {
	case kindFile:
		ev = mux.Readable | mux.Writable
	case kindPipeR:
		if f.rx.len() > 0 || f.rx.fin {
			ev |= mux.Readable
		}
		if f.rx.fin {
			ev |= mux.Hangup
		}
	case kindPipeW:
		if f.tx.gone {
			ev |= mux.Error
		} else if f.tx.space() > 0 {
			ev |= mux.Writable
		}
	case kindListener:
		if len(f.backlog) > 0 {
			ev |= mux.Readable
		}
	case kindStream:
		ev = streamReadiness(f)
	}
	ev |= f.forced
	if ev&(mux.Hangup|mux.Error) != 0 {
		ev |= mux.Readable | mux.Writable
	}
	if ev&mux.ReadHangup != 0 {
		ev |= mux.Readable
	}
	return ev
}

// streamReadiness is what Linux's tcp_poll and unix_poll say of f. k.mu is
// held.
func streamReadiness(f *file) mux.Events {
	var ev mux.Events
	switch f.state {
	case sockFresh:
		return mux.Writable | mux.Hangup // a fresh TCP socket is CLOSE: EPOLLOUT|EPOLLHUP
	case sockConnecting:
		return 0
	case sockClosed:
		ev = mux.ReadHangup | mux.Hangup
	case sockConnected:
		rcvShut := f.rdShut || f.rx.fin
		sndShut := f.wrShut || !f.tcp && f.tx.gone // AF_UNIX: the peer's SHUT_RD or close
		if f.rx.len() > 0 || rcvShut {
			ev |= mux.Readable
		}
		if rcvShut {
			ev |= mux.ReadHangup
		}
		if rcvShut && sndShut {
			ev |= mux.Hangup
		}
		if sndShut || f.tx.space() > 0 {
			ev |= mux.Writable
		}
		if f.rx.urgent() {
			ev |= mux.Priority
		}
	}
	if f.rx.len() > 0 {
		ev |= mux.Readable
	}
	if f.err != 0 {
		ev |= mux.Error
	}
	return ev
}
