package fake

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
)

// Defaults for the zero values of Config's fields.
const (
	DefaultBuffer   = 64 << 10 // bytes per direction of a pair, pipe or connection
	DefaultLatency  = time.Millisecond
	DefaultFDLimit  = 1 << 16
	DefaultBusyLoop = 100
	DefaultTrace    = 1024
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
// default buffer sizes and latency, events in descriptor order.
type Config struct {
	// Seed seeds the one source of every choice the kernel makes. The same
	// seed and the same calls give the same run, trace and hash.
	Seed uint64

	// Buffer is the capacity in bytes of each direction of a stream
	// connection and of a pipe. Zero means DefaultBuffer.
	Buffer int

	// Latency is how long, in virtual time, a non-blocking Connect stays
	// in progress before it completes or fails. Zero means
	// DefaultLatency; a negative value means none (the connect completes
	// at the next Wait or Advance).
	Latency time.Duration

	// Start is the virtual clock's reading when the kernel is made. The
	// zero value means Epoch.
	Start time.Time

	// FDLimit bounds the number of open descriptors, like RLIMIT_NOFILE:
	// allocating beyond it fails with EMFILE. Zero means DefaultFDLimit.
	FDLimit int

	// Shuffle makes Wait report the events of a batch in an order drawn
	// from the seed instead of in ascending descriptor order.
	Shuffle bool

	// BusyLoop is the number of consecutive Waits without progress after
	// which the kernel records a *BusyLoopError (see Kernel.BusyLoop).
	// Zero means DefaultBusyLoop; a negative value turns detection off.
	BusyLoop int

	// Trace is how many of the most recent Records Trace keeps. The hash
	// covers every call regardless. Zero means DefaultTrace.
	Trace int

	// Faults are the faults switched on from the start. SetFaults changes
	// them later.
	Faults Faults
}

// A Kernel is a simulated operating system: a descriptor table, stream
// connections, pipes, regular files, a tiny network of named listeners and
// a virtual clock. Its methods behave like the system calls of the same
// names on non-blocking descriptors and return unix.Errno errors
// (unix.EAGAIN, unix.EPIPE, …), so code written for the OS runs unchanged.
//
// A Kernel is safe for concurrent use.
type Kernel struct {
	mu   sync.Mutex
	cond sync.Cond // signalled, with mu, whenever state changes; blocked Waits wait on it

	// Fixed at New.
	epoch   time.Time
	bufSize int
	latency time.Duration
	fdLimit int
	shuffle bool
	busyMax int

	// The fields below are guarded by mu.
	rng       *rand.Rand
	faults    Faults
	files     []*file // indexed by descriptor; nil when free
	nopen     int
	listeners map[string]*file
	now       time.Duration // virtual time since epoch
	timers    []timer       // ordered by (at, seq)
	timerSeq  uint64
	progress  uint64 // bumped by every change of state; see busy-loop detection
	trace     tracer
	busyErr   error
	reuse     reuseFault
	fired     [faultEarlyWake + 1]int // times each fault fired
}

// New returns a Kernel set up by cfg.
func New(cfg Config) *Kernel {
	k := &Kernel{
		epoch:     cfg.Start,
		bufSize:   cfg.Buffer,
		latency:   cfg.Latency,
		fdLimit:   cfg.FDLimit,
		shuffle:   cfg.Shuffle,
		busyMax:   cfg.BusyLoop,
		rng:       rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		faults:    cfg.Faults,
		listeners: map[string]*file{},
	}
	k.cond.L = &k.mu
	if k.epoch.IsZero() {
		k.epoch = Epoch
	}
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
	n := cfg.Trace
	if n <= 0 {
		n = DefaultTrace
	}
	k.trace.init(n, cfg.Seed)
	return k
}

// kind is what a descriptor refers to.
type kind uint8

const (
	kindStream   kind = iota + 1 // a stream socket: fresh, connecting or connected
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
	sockFailed                      // connect refused, or connection reset
)

// file is an open file description. All fields are guarded by Kernel.mu.
type file struct {
	kind   kind
	fd     int        // the number it is open as, or -1 (queued for Accept, orphaned)
	forced mux.Events // readiness set by SetReady, ORed into the computed one

	// Streams and pipes.
	rx     *buffer // what this end reads (nil for a pipe's write end)
	tx     *buffer // what this end writes (nil for a pipe's read end)
	peer   *file   // the other end of a stream connection, or nil
	state  sockState
	rdShut bool       // shutdown(SHUT_RD) on this end
	wrShut bool       // shutdown(SHUT_WR) on this end
	err    unix.Errno // pending socket error (SO_ERROR)

	// Listeners.
	addr    string
	backlog []*file // connected server ends waiting for Accept

	// Regular files.
	data []byte
	off  int

	// Multiplexers.
	mux *Mux
}

// buffer is one direction of a connection or pipe. All fields are guarded
// by Kernel.mu.
type buffer struct {
	data     []byte // unread bytes are data[off:]
	off      int
	cap      int
	wclosed  bool  // the writer shut down or closed: EOF once drained
	rclosed  bool  // the reader shut down or closed: writes fail with EPIPE
	read     int64 // bytes read so far
	urgentAt int64 // stream offset of the last urgent byte, or -1
}

func newBuffer(n int) *buffer { return &buffer{cap: n, urgentAt: -1} }

func (b *buffer) len() int   { return len(b.data) - b.off }
func (b *buffer) space() int { return b.cap - b.len() }

func (b *buffer) write(p []byte) {
	if b.off > 0 && cap(b.data)-len(b.data) < len(p) {
		n := copy(b.data, b.data[b.off:])
		b.data = b.data[:n]
		b.off = 0
	}
	b.data = append(b.data, p...)
}

func (b *buffer) readInto(p []byte) int {
	n := copy(p, b.data[b.off:])
	b.off += n
	b.read += int64(n)
	if b.off == len(b.data) {
		b.data = b.data[:0]
		b.off = 0
	}
	return n
}

func (b *buffer) discard() {
	b.read += int64(b.len())
	b.data = b.data[:0]
	b.off = 0
}

// urgent reports whether an urgent byte is still unread.
func (b *buffer) urgent() bool { return b.urgentAt >= b.read }

// alloc gives f the lowest free descriptor number. k.mu is held.
func (k *Kernel) alloc(f *file) (int, error) {
	if k.nopen >= k.fdLimit {
		return -1, unix.EMFILE
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
	k.files[fd] = f
	f.fd = fd
	k.nopen++
	return fd, nil
}

// lookup returns the file open as fd, or nil. k.mu is held.
func (k *Kernel) lookup(fd int) *file {
	if fd < 0 || fd >= len(k.files) {
		return nil
	}
	return k.files[fd]
}

// changed records that state changed: it counts progress for the
// busy-loop detector and wakes blocked Waits. k.mu is held.
func (k *Kernel) changed() {
	k.progress++
	k.cond.Broadcast()
}

// enter is called first, with k.mu held, by every operation that code
// under test makes. It carries out a pending fd-reuse fault.
func (k *Kernel) enter() {
	if k.reuse.f != nil {
		k.doReuse()
	}
}

// Pair returns a connected pair of stream sockets, like socketpair(2).
func (k *Kernel) Pair() (a, b int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	a, b, err = k.pair()
	k.record(opPair, a, int64(b), 0, err)
	return a, b, err
}

func (k *Kernel) pair() (int, int, error) {
	x, y := k.newConn()
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

// newConn returns the two connected ends of a stream connection, not yet
// given numbers.
func (k *Kernel) newConn() (x, y *file) {
	ab, ba := newBuffer(k.bufSize), newBuffer(k.bufSize)
	x = &file{kind: kindStream, state: sockConnected, rx: ba, tx: ab, fd: -1}
	y = &file{kind: kindStream, state: sockConnected, rx: ab, tx: ba, fd: -1}
	x.peer, y.peer = y, x
	return x, y
}

// Pipe returns the read and write ends of a pipe, like pipe2(2).
func (k *Kernel) Pipe() (r, w int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	b := newBuffer(k.bufSize)
	r, err = k.alloc(&file{kind: kindPipeR, rx: b})
	if err == nil {
		w, err = k.alloc(&file{kind: kindPipeW, tx: b})
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
// returns unix.EAGAIN when nothing is there yet, (0, nil) at end of file,
// and the pending socket error, once, after a reset or a refused connect.
// n is never negative.
func (k *Kernel) Read(fd int, p []byte) (n int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	n, err = k.read(fd, p)
	if n > 0 || err != nil && err != unix.EAGAIN {
		k.changed()
	}
	k.record(opRead, fd, int64(len(p)), n, err)
	return n, err
}

func (k *Kernel) read(fd int, p []byte) (int, error) {
	f := k.lookup(fd)
	if f == nil {
		return 0, unix.EBADF
	}
	switch f.kind {
	case kindFile:
		if f.off >= len(f.data) {
			return 0, nil
		}
		n := copy(p, f.data[f.off:])
		f.off += n
		return n, nil
	case kindPipeW:
		return 0, unix.EBADF
	case kindListener:
		return 0, unix.ENOTCONN
	case kindMux:
		return 0, unix.EINVAL
	case kindStream:
		switch f.state {
		case sockFresh:
			return 0, unix.ENOTCONN
		case sockConnecting:
			return 0, unix.EAGAIN
		}
	}
	b := f.rx
	if b.len() == 0 {
		if f.err != 0 {
			err := f.err
			f.err = 0
			return 0, err
		}
		if b.wclosed || f.rdShut {
			return 0, nil
		}
		return 0, unix.EAGAIN
	}
	if len(p) == 0 {
		return 0, nil
	}
	if f.kind == kindStream && f.state == sockConnected && k.fire(k.faults.Reset, faultReset, fd) {
		k.reset(f, unix.ECONNRESET)
		f.err = 0
		return 0, unix.ECONNRESET
	}
	if k.fire(k.faults.Again, faultAgain, fd) {
		return 0, unix.EAGAIN
	}
	want := min(len(p), b.len())
	if want > 1 && k.fire(k.faults.ShortRead, faultShortRead, fd) {
		want = 1 + k.rng.IntN(want-1)
	}
	return b.readInto(p[:want]), nil
}

// Write writes p to fd, like write(2) on a non-blocking descriptor. It
// writes what fits and returns unix.EAGAIN only when nothing fits (pipe
// writes of up to 4096 bytes are all or nothing, as PIPE_BUF makes them),
// and unix.EPIPE once the reading side is gone. n is never negative.
func (k *Kernel) Write(fd int, p []byte) (n int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	n, err = k.write(fd, p)
	if n > 0 || err != nil && err != unix.EAGAIN {
		k.changed()
	}
	k.record(opWrite, fd, int64(len(p)), n, err)
	return n, err
}

func (k *Kernel) write(fd int, p []byte) (int, error) {
	f := k.lookup(fd)
	if f == nil {
		return 0, unix.EBADF
	}
	switch f.kind {
	case kindFile:
		end := f.off + len(p)
		if end > len(f.data) {
			f.data = append(f.data, make([]byte, end-len(f.data))...)
		}
		copy(f.data[f.off:], p)
		f.off = end
		return len(p), nil
	case kindPipeR:
		return 0, unix.EBADF
	case kindListener:
		return 0, unix.EPIPE
	case kindMux:
		return 0, unix.EINVAL
	case kindStream:
		if f.err != 0 {
			err := f.err
			f.err = 0
			return 0, err
		}
		switch f.state {
		case sockFresh, sockFailed:
			return 0, unix.EPIPE
		case sockConnecting:
			return 0, unix.EAGAIN
		}
		if f.wrShut {
			return 0, unix.EPIPE
		}
	}
	b := f.tx
	if b.rclosed {
		return 0, unix.EPIPE
	}
	if len(p) == 0 {
		return 0, nil
	}
	if f.kind == kindStream && k.fire(k.faults.Reset, faultReset, fd) {
		k.reset(f, unix.ECONNRESET)
		f.err = 0
		return 0, unix.ECONNRESET
	}
	space := b.space()
	if space == 0 || f.kind == kindPipeW && len(p) <= pipeBuf && space < len(p) {
		return 0, unix.EAGAIN
	}
	if k.fire(k.faults.Again, faultAgain, fd) {
		return 0, unix.EAGAIN
	}
	n := min(len(p), space)
	if n > 1 && !(f.kind == kindPipeW && len(p) <= pipeBuf) && k.fire(k.faults.ShortWrite, faultShortWrite, fd) {
		n = 1 + k.rng.IntN(n-1)
	}
	b.write(p[:n])
	return n, nil
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
		return unix.EBADF
	case f.kind != kindStream:
		return unix.EOPNOTSUPP
	case f.state != sockConnected:
		return unix.ENOTCONN
	case f.wrShut || f.tx.rclosed:
		return unix.EPIPE
	case f.tx.space() == 0:
		return unix.EAGAIN
	}
	f.tx.urgentAt = f.tx.read + int64(f.tx.len())
	f.tx.write([]byte{'!'})
	return nil
}

// Shutdown shuts down part of a stream connection, like shutdown(2): how
// is unix.SHUT_RD, unix.SHUT_WR or unix.SHUT_RDWR. After SHUT_WR the peer
// reads end of file once the buffer is drained; after SHUT_RD reads return
// end of file and the peer's writes fail with EPIPE, as for AF_UNIX.
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

func (k *Kernel) shutdown(fd, how int) error {
	f := k.lookup(fd)
	switch {
	case f == nil:
		return unix.EBADF
	case f.kind != kindStream:
		return unix.ENOTSOCK
	case how != unix.SHUT_RD && how != unix.SHUT_WR && how != unix.SHUT_RDWR:
		return unix.EINVAL
	case f.state != sockConnected:
		return unix.ENOTCONN
	}
	if how != unix.SHUT_WR {
		f.rdShut = true
		f.rx.rclosed = true
	}
	if how != unix.SHUT_RD {
		f.wrShut = true
		f.tx.wclosed = true
	}
	return nil
}

// Close closes fd, like close(2). Closing one end of a connection makes the
// peer read end of file and fail writes with EPIPE; if unread data was
// left behind, the peer also gets ECONNRESET, as on Linux. Closing a
// Multiplexer's descriptor closes the Multiplexer.
func (k *Kernel) Close(fd int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	var err error
	if f := k.lookup(fd); f == nil {
		err = unix.EBADF
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
	k.teardown(f)
	k.changed()
}

// teardown ends what a closed file referred to. k.mu is held.
func (k *Kernel) teardown(f *file) {
	f.forced = 0
	switch f.kind {
	case kindStream:
		if f.state != sockConnected {
			f.state = sockFailed // a connect in progress never completes
			return
		}
		if f.rx.len() > 0 && f.peer != nil && f.peer.state == sockConnected {
			f.peer.err = unix.ECONNRESET
		}
		f.rx.rclosed, f.rx.wclosed = true, true
		f.tx.wclosed = true
		f.rx.discard()
		f.state = sockFailed
	case kindPipeR:
		f.rx.rclosed = true
		f.rx.discard()
	case kindPipeW:
		f.tx.wclosed = true
	case kindListener:
		delete(k.listeners, f.addr)
		for _, c := range f.backlog {
			k.reset(c, unix.ECONNRESET) // as Linux resets unaccepted connections
		}
		f.backlog = nil
	}
}

// Reset aborts the connection fd belongs to, as a TCP RST does: both ends
// lose their unread data, get ECONNRESET as their pending socket error,
// and become Readable, Writable, ReadHangup, Hangup and Error.
func (k *Kernel) Reset(fd int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	f := k.lookup(fd)
	var err error
	switch {
	case f == nil:
		err = unix.EBADF
	case f.kind != kindStream:
		err = unix.ENOTSOCK
	case f.state != sockConnected:
		err = unix.ENOTCONN
	default:
		k.reset(f, unix.ECONNRESET)
	}
	k.record(opReset, fd, 0, 0, err)
	return err
}

// reset breaks f's connection with errno on both ends. k.mu is held.
func (k *Kernel) reset(f *file, errno unix.Errno) {
	for _, e := range [2]*file{f, f.peer} {
		if e == nil || e.state != sockConnected {
			continue
		}
		e.err = errno
		e.state = sockFailed
		e.rx.discard()
		e.rx.rclosed, e.rx.wclosed = true, true
		e.tx.rclosed, e.tx.wclosed = true, true
	}
	k.changed()
}

// SockErr returns and clears fd's pending socket error, like
// getsockopt(fd, SOL_SOCKET, SO_ERROR): 0 after a connect that succeeded,
// unix.ECONNREFUSED after one that failed. err is unix.EBADF or
// unix.ENOTSOCK when fd is not a socket.
func (k *Kernel) SockErr(fd int) (errno unix.Errno, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	f := k.lookup(fd)
	switch {
	case f == nil:
		err = unix.EBADF
	case f.kind != kindStream && f.kind != kindListener:
		err = unix.ENOTSOCK
	default:
		errno, f.err = f.err, 0
		if errno != 0 {
			k.changed()
		}
	}
	k.record(opSockErr, fd, 0, int(errno), err)
	return errno, err
}

// SetReady forces readiness on fd for scripted tests: every Wait reports
// ev (within the interest, plus any reported-only conditions in ev) on top
// of what fd really is, until SetReady(fd, 0) or until fd is closed. It
// changes nothing else: a Read after a forced Readable on an empty socket
// still returns EAGAIN.
func (k *Kernel) SetReady(fd int, ev mux.Events) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.enter()
	f := k.lookup(fd)
	var err error
	if f == nil {
		err = unix.EBADF
	} else {
		f.forced = ev & mux.All
		k.changed()
	}
	k.record(opSetReady, fd, int64(ev), 0, err)
	return err
}

// Descriptors lists the open descriptors and what each refers to, such as
// "socket", "pipe (read end)" or "multiplexer".
func (k *Kernel) Descriptors() map[int]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := make(map[int]string, k.nopen)
	for fd, f := range k.files {
		if f != nil {
			m[fd] = kindNames[f.kind]
		}
	}
	return m
}

// readiness returns what f is ready for now. k.mu is held.
func (k *Kernel) readiness(f *file) mux.Events {
	var ev mux.Events
	switch f.kind {
	case kindFile:
		ev = mux.Readable | mux.Writable
	case kindPipeR:
		if f.rx.len() > 0 || f.rx.wclosed {
			ev |= mux.Readable
		}
		if f.rx.wclosed {
			ev |= mux.Hangup
		}
	case kindPipeW:
		if f.tx.rclosed {
			ev |= mux.Writable | mux.Error
		} else if f.tx.space() > 0 {
			ev |= mux.Writable
		}
	case kindListener:
		if len(f.backlog) > 0 {
			ev |= mux.Readable
		}
	case kindStream:
		switch f.state {
		case sockFresh:
			ev = mux.Writable | mux.Hangup
		case sockConnecting:
		case sockFailed:
			ev = mux.Readable | mux.Writable | mux.ReadHangup | mux.Hangup
			if f.err != 0 {
				ev |= mux.Error
			}
		case sockConnected:
			rcvShut := f.rx.wclosed || f.rdShut
			sndShut := f.tx.rclosed || f.wrShut
			if f.rx.len() > 0 || rcvShut || f.err != 0 {
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
			if f.err != 0 {
				ev |= mux.Error
			}
		}
	}
	return ev | f.forced
}

// clampAdd returns now+d, or ok false if that overflows.
func clampAdd(now, d time.Duration) (time.Duration, bool) {
	if d > math.MaxInt64-now {
		return 0, false
	}
	return now + d, true
}
