package record

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// The file format.
//
// A recording is the magic "muxkit-rec", the format's version as a
// uvarint, and frames: a uvarint length, that many bytes of payload, and
// the payload's CRC-32C (4 bytes, little-endian). The first frame holds
// the header; each later one a block of calls, one after the other. A
// recorder writes a frame with one Write, so a crash while recording
// leaves every frame before the last whole, and a reader stops at the
// first frame that is cut short or fails its checksum (a DamagedError),
// having read every call before it.
//
// Numbers are varints: unsigned ones uvarints, signed ones (descriptors,
// times) zigzag varints. A call is its Op (one byte), its time as the
// difference from the call before, and its fields by Op:
//
//	read, write    fd, size, n, err, data
//	close, sockerr fd, err
//	accept         fd, n, err
//	dial, listen   addr, n, err
//	now            —
//	add, modify    fd, interest, err
//	remove         fd, err
//	wait           size, timeout, took, n, n × (fd, events), err
//	wake, muxclose err
//
// An error is 0 for nil, else errno<<4 | kind<<1 | text, where kind is
// the error of package mux it is (1 to 7, see kinds) and text is 1 when
// its text follows (for any error that is not a bare errno). Data is the
// number of bytes kept, the bytes, and, when fewer than n were kept, the
// CRC-32C of all n. A string is its length and its bytes.
const (
	magic   = "muxkit-rec"
	version = 1
)

// maxFrame bounds a frame's length. A recorder never writes one this
// large (a block plus one call: a call holds one read's or write's
// bytes); a reader that finds one is reading something else.
const maxFrame = 1 << 30

// Header is what a recording says of itself.
type Header struct {
	Version int       // the format's version
	Start   time.Time // when recording started, on the recorder's clock
	Backend mux.Info  // what the recorded Multiplexer said of itself (mux.Describe)
	Reads   int       // Config.Reads of the recorder
	Writes  int       // Config.Writes of the recorder
}

// A Recording is a recording read back: its header and its calls, in
// the order they ended.
type Recording struct {
	Header
	Calls []Call
}

// DamagedError reports a recording whose end is cut short or corrupt, as
// a crash while recording leaves it: the calls before the damage were
// read and are in the Recording returned with it.
type DamagedError struct {
	Offset int64 // where in the file the damaged frame starts
	Calls  int   // the calls read before it
	Err    error // what is wrong with it
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("record: damaged at byte %d, after %d calls (cut short by a crash while recording?): %v", e.Offset, e.Calls, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// ReadFile reads the recording in the named file; see Read.
func ReadFile(name string) (*Recording, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rec, err := Read(f)
	if err != nil && rec == nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rec, err
}

// Read reads a recording from r. If the recording is cut short or
// corrupt after its header, Read returns the calls before the damage
// together with a *DamagedError.
func Read(r io.Reader) (*Recording, error) {
	d := decoder{r: bufio.NewReader(r)}
	if err := d.start(); err != nil {
		return nil, err
	}
	p, err := d.frame()
	if err != nil {
		return nil, fmt.Errorf("record: header: %w", err)
	}
	rec := &Recording{}
	if err := d.header(p, &rec.Header); err != nil {
		return nil, fmt.Errorf("record: header: %w", err)
	}
	for {
		at := d.off
		p, err := d.frame()
		if err == io.EOF {
			return rec, nil
		}
		if err == nil {
			err = d.calls(p, rec)
		}
		if err != nil {
			return rec, &DamagedError{Offset: at, Calls: len(rec.Calls), Err: err}
		}
	}
}

// encoder writes a recording. Its fields are guarded by the Recorder's
// mutex.
type encoder struct {
	w     io.Writer
	buf   []byte        // buf[frameRoom:] is the payload of the frame being filled
	last  time.Duration // the time of the call encoded last
	block int           // payload bytes after which a frame is written
	err   error         // the first write error; nothing is written after it
}

// frameRoom is the room left at the start of buf for a frame's length,
// so that a frame is written with one Write.
const frameRoom = binary.MaxVarintLen64

func (e *encoder) reset() { e.buf = e.buf[:frameRoom] }

// start writes the magic, the version and the header frame.
func (e *encoder) start(h *Header) error {
	e.buf = append(make([]byte, 0, e.block+e.block/4+frameRoom+64), make([]byte, frameRoom)...)
	if _, err := e.w.Write(binary.AppendUvarint([]byte(magic), version)); err != nil {
		return err
	}
	b := binary.AppendVarint(e.buf, h.Start.UnixNano())
	b = appendString(b, h.Backend.Name)
	b = binary.AppendUvarint(b, uint64(h.Backend.MaxFD))
	b = binary.AppendUvarint(b, uint64(h.Backend.Reports))
	var flags uint64
	if h.Backend.Scales {
		flags |= 1
	}
	if h.Backend.RegularFiles {
		flags |= 2
	}
	// The modes as two more flags: a recording made before them has
	// neither, as its backend kept none.
	if h.Backend.Modes.Has(mux.EdgeTriggered) {
		flags |= 4
	}
	if h.Backend.Modes.Has(mux.OneShot) {
		flags |= 8
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, uint64(h.Backend.Resolution))
	b = binary.AppendVarint(b, int64(h.Reads))
	b = binary.AppendVarint(b, int64(h.Writes))
	e.buf = b
	return e.flush()
}

// flush writes the frame being filled, if it holds anything.
func (e *encoder) flush() error {
	if e.err != nil || len(e.buf) == frameRoom {
		return e.err
	}
	payload := e.buf[frameRoom:]
	var n [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(n[:], uint64(len(payload)))
	copy(e.buf[frameRoom-k:], n[:k])
	e.buf = binary.LittleEndian.AppendUint32(e.buf, crc32.Checksum(payload, castagnoli))
	_, e.err = e.w.Write(e.buf[frameRoom-k:])
	e.reset()
	return e.err
}

// call begins a call of op at time at.
func (e *encoder) call(op Op, at time.Duration) {
	e.buf = binary.AppendVarint(append(e.buf, byte(op)), int64(at-e.last))
	e.last = at
}

// end ends a call, writing the frame if it is full.
func (e *encoder) end() {
	if len(e.buf)-frameRoom >= e.block {
		e.flush()
	}
}

func (e *encoder) int(v int)    { e.buf = binary.AppendVarint(e.buf, int64(v)) }
func (e *encoder) uint(v int)   { e.buf = binary.AppendUvarint(e.buf, uint64(v)) }
func (e *encoder) str(s string) { e.buf = appendString(e.buf, s) }

// duration writes a signed duration whole: through int, a minute would
// wrap where int has 32 bits.
func (e *encoder) duration(d time.Duration) { e.buf = binary.AppendVarint(e.buf, int64(d)) }

// uduration writes a duration that is never negative, as the decoder's
// uint64 reads it.
func (e *encoder) uduration(d time.Duration) { e.buf = binary.AppendUvarint(e.buf, uint64(d)) }

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// error encodes err.
func (e *encoder) error(err error) {
	if err == nil {
		e.buf = append(e.buf, 0)
		return
	}
	if errno, ok := err.(syscall.Errno); ok {
		e.buf = binary.AppendUvarint(e.buf, uint64(errno)<<4)
		return
	}
	code := uint64(errnoOf(err))<<4 | uint64(kindOf(err))<<1 | 1
	e.buf = appendString(binary.AppendUvarint(e.buf, code), err.Error())
}

// data encodes the bytes p moved, keeping as many as keep says.
func (e *encoder) data(p []byte, keep int) {
	k := len(p)
	switch {
	case keep < 0:
		k = 0
	case keep > 0:
		k = min(k, keep)
	}
	e.buf = append(binary.AppendUvarint(e.buf, uint64(k)), p[:k]...)
	if k < len(p) {
		e.buf = binary.LittleEndian.AppendUint32(e.buf, crc32.Checksum(p, castagnoli))
	}
}

// decoder reads a recording.
type decoder struct {
	r    *bufio.Reader
	off  int64 // bytes read so far
	seq  uint64
	last time.Duration
	buf  bytes.Buffer
}

// start reads the magic and the version.
func (d *decoder) start() error {
	m := make([]byte, len(magic))
	if _, err := io.ReadFull(d.r, m); err != nil || string(m) != magic {
		return errors.New("record: not a muxkit recording")
	}
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		return errors.New("record: not a muxkit recording")
	}
	if v != version {
		return fmt.Errorf("record: a recording of format version %d; this reader knows version %d", v, version)
	}
	d.off = int64(len(magic) + uvarintLen(v))
	return nil
}

func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

// frame reads the next frame and returns its payload, which is good
// until the next call; io.EOF when the recording ends cleanly between
// frames.
func (d *decoder) frame() ([]byte, error) {
	n, err := binary.ReadUvarint(d.r)
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case err != nil:
		return nil, fmt.Errorf("frame length: %w", noEOF(err))
	case n > maxFrame:
		return nil, fmt.Errorf("frame of %d bytes: more than any recorder writes", n)
	}
	d.buf.Reset()
	// Copied as it comes rather than read into a buffer of n bytes made
	// at once: a damaged length must not make the reader allocate it.
	if _, err := io.CopyN(&d.buf, d.r, int64(n)+4); err != nil {
		return nil, fmt.Errorf("frame of %d bytes: %w", n, noEOF(err))
	}
	b := d.buf.Bytes()
	p, sum := b[:n], binary.LittleEndian.Uint32(b[n:])
	if crc32.Checksum(p, castagnoli) != sum {
		return nil, fmt.Errorf("frame of %d bytes: checksum mismatch", n)
	}
	d.off += int64(uvarintLen(n)) + int64(n) + 4
	return p, nil
}

// noEOF turns an end of file in the middle of a frame into
// io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// header decodes the header frame p into h.
func (d *decoder) header(p []byte, h *Header) error {
	s := scanner{p: p}
	h.Version = version
	h.Start = time.Unix(0, s.int64())
	h.Backend.Name = s.str()
	h.Backend.MaxFD = s.int()
	h.Backend.Reports = mux.Events(s.uint())
	flags := s.uint()
	h.Backend.Scales, h.Backend.RegularFiles = flags&1 != 0, flags&2 != 0
	if flags&4 != 0 {
		h.Backend.Modes |= mux.EdgeTriggered
	}
	if flags&8 != 0 {
		h.Backend.Modes |= mux.OneShot
	}
	h.Backend.Resolution = time.Duration(s.uint())
	h.Reads, h.Writes = int(s.int64()), int(s.int64())
	return s.err
}

// calls decodes the calls of the block p into rec.
func (d *decoder) calls(p []byte, rec *Recording) error {
	s := scanner{p: p}
	for len(s.p) > 0 && s.err == nil {
		c := Call{Op: Op(s.byte()), FD: -1}
		if c.Op == 0 || c.Op >= numOps {
			return fmt.Errorf("call %d: unknown kind %d", d.seq+1, c.Op)
		}
		d.last += time.Duration(s.int64())
		d.seq++
		c.Seq, c.At = d.seq, d.last
		if c.Op.hasFD() {
			c.FD = s.int()
		}
		switch c.Op {
		case OpRead, OpWrite:
			c.Size, c.N = s.int(), s.int()
			c.Err = s.error()
			c.Data, c.Sum = s.data(c.N)
		case OpAccept:
			c.N = s.int()
			c.Err = s.error()
		case OpDial, OpListen:
			c.Addr = s.str()
			c.N = s.int()
			c.Err = s.error()
		case OpNow:
		case OpAdd, OpModify:
			c.Interest = mux.Events(s.uint())
			c.Err = s.error()
		case OpWait:
			c.Size = s.uint()
			c.Timeout = time.Duration(s.int64())
			c.Took = time.Duration(s.uint64())
			c.N = s.uint()
			if c.N > len(s.p) { // each event takes two bytes at least
				return fmt.Errorf("call %d: %d events in a block of %d bytes", d.seq, c.N, len(p))
			}
			c.Events = make([]mux.Event, c.N)
			for i := range c.Events {
				c.Events[i] = mux.Event{FD: s.int(), Events: mux.Events(s.uint())}
			}
			c.Err = s.error()
		default: // close, sockerr, remove, wake, muxclose
			c.Err = s.error()
		}
		if s.err == nil {
			rec.Calls = append(rec.Calls, c)
		}
	}
	if s.err != nil {
		return fmt.Errorf("call %d: %w", d.seq, s.err)
	}
	return nil
}

// scanner decodes the fields of a frame's payload; the first error
// sticks, and every field read after it is zero.
type scanner struct {
	p   []byte
	err error
}

var errShort = errors.New("a field runs past its frame")

func (s *scanner) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.p = nil
}

func (s *scanner) byte() byte {
	if len(s.p) == 0 {
		s.fail(errShort)
		return 0
	}
	b := s.p[0]
	s.p = s.p[1:]
	return b
}

func (s *scanner) uint64() uint64 {
	v, n := binary.Uvarint(s.p)
	if n <= 0 {
		s.fail(errShort)
		return 0
	}
	s.p = s.p[n:]
	return v
}

// int64 reads a zigzag varint, as binary.AppendVarint writes it.
func (s *scanner) int64() int64 {
	u := s.uint64()
	return int64(u>>1) ^ -int64(u&1)
}

// uint reads an unsigned number that must fit an int.
func (s *scanner) uint() int {
	v := s.uint64()
	if v > maxFrame {
		s.fail(fmt.Errorf("number %d out of range", v))
		return 0
	}
	return int(v)
}

// int reads a signed number that must fit an int.
func (s *scanner) int() int {
	v := s.int64()
	if int64(int(v)) != v {
		s.fail(fmt.Errorf("number %d out of range", v))
		return 0
	}
	return int(v)
}

func (s *scanner) bytes(n int) []byte {
	if n > len(s.p) {
		s.fail(errShort)
		return nil
	}
	b := s.p[:n:n]
	s.p = s.p[n:]
	return b
}

func (s *scanner) str() string { return string(s.bytes(s.uint())) }

func (s *scanner) error() error {
	code := s.uint64()
	switch {
	case code == 0:
		return nil
	case code&0xf == 0:
		return syscall.Errno(code >> 4)
	}
	e := &Error{Errno: syscall.Errno(code >> 4)}
	if k := int(code>>1) & 7; k > 0 {
		e.Kind = kinds[k-1]
	}
	if code&1 != 0 {
		e.Text = s.str()
	}
	return e
}

// data reads the bytes of a read or write that moved n, copied out of
// the frame, and their checksum.
func (s *scanner) data(n int) ([]byte, uint32) {
	k := s.uint()
	if k > n {
		s.fail(fmt.Errorf("%d bytes kept of %d moved", k, n))
		return nil, 0
	}
	var data []byte
	if k > 0 {
		data = bytes.Clone(s.bytes(k))
	}
	if k == n {
		return data, crc32.Checksum(data, castagnoli)
	}
	sum := s.bytes(4)
	if len(sum) < 4 {
		return data, 0
	}
	return data, binary.LittleEndian.Uint32(sum)
}
