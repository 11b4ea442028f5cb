package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Op is the kind of a recorded call: a method of [loop.Sys] or of
// [mux.Multiplexer].
type Op uint8

// The calls a recording holds. Their names are those of the fake
// kernel's trace, so that a recording and a trace read alike.
const (
	OpRead     Op = iota + 1 // Sys.Read
	OpWrite                  // Sys.Write
	OpClose                  // Sys.Close
	OpSockErr                // Sys.SockErr
	OpAccept                 // Sys.Accept
	OpDial                   // Sys.Dial
	OpListen                 // Sys.Listen
	OpNow                    // Sys.Now
	OpAdd                    // Multiplexer.Add
	OpModify                 // Multiplexer.Modify
	OpRemove                 // Multiplexer.Remove
	OpWait                   // Multiplexer.Wait
	OpWake                   // Multiplexer.Wake
	OpMuxClose               // Multiplexer.Close
	numOps
)

var opNames = [...]string{
	OpRead:     "read",
	OpWrite:    "write",
	OpClose:    "close",
	OpSockErr:  "sockerr",
	OpAccept:   "accept",
	OpDial:     "dial",
	OpListen:   "listen",
	OpNow:      "now",
	OpAdd:      "add",
	OpModify:   "modify",
	OpRemove:   "remove",
	OpWait:     "wait",
	OpWake:     "wake",
	OpMuxClose: "muxclose",
}

func (o Op) String() string {
	if o > 0 && o < numOps {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// hasFD reports whether calls of o name a descriptor.
func (o Op) hasFD() bool {
	switch o {
	case OpRead, OpWrite, OpClose, OpSockErr, OpAccept, OpAdd, OpModify, OpRemove:
		return true
	}
	return false
}

// counts reports whether calls of o return a number: bytes moved, a
// descriptor or events reported.
func (o Op) counts() bool {
	switch o {
	case OpRead, OpWrite, OpAccept, OpDial, OpListen, OpWait:
		return true
	}
	return false
}

// A Call is one recorded call with its arguments and its result: what
// the code under test asked and what it was told.
type Call struct {
	Seq uint64 // 1 for the first call of a recording, then 2, 3, …
	Op  Op

	// At is when the call was made, counted from the start of the
	// recording; for Now it is the reading the call returned. Took is how
	// long a Wait took.
	At, Took time.Duration

	// The arguments.
	FD       int           // the descriptor of the calls that name one, else -1
	Addr     string        // dial, listen: the address
	Interest mux.Events    // add, modify
	Timeout  time.Duration // wait
	Size     int           // read, write: len(p); wait: len(events)

	// The result.
	N      int         // read, write: bytes moved; accept, dial, listen: the new descriptor, or -1; wait: events reported
	Err    error       // nil, a syscall.Errno, or an *Error
	Events []mux.Event // wait: what it reported, in order

	// Data is the bytes a read or write moved (p[:N]), or as many of
	// them as the recording keeps (see Config.Reads and Config.Writes),
	// and Sum their CRC-32C (Castagnoli), all N of them.
	Data []byte
	Sum  uint32
}

// castagnoli is the CRC-32C table: the checksum of bytes a recording
// does not keep, and of its blocks. Most CPUs compute it in hardware.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of p, the checksum a
// recording keeps of the bytes a read or write moved.
func Checksum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

// String formats c on one line, its bytes quoted up to 32 of them, such
// as `12 +1.5ms read fd=8 4096 -> 1460 "HTTP/1.1 200 OK\r\n"…`: its Seq,
// its time, what was asked and, after the arrow, what was answered — the
// count and the error if any, or for a call without a count "ok" or the
// error.
func (c Call) String() string { return c.Text(32) }

// Text formats c as String does, quoting up to max of its bytes (all of
// them if max is negative, none if it is zero).
func (c Call) Text(max int) string {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(c.Seq, 10))
	b.WriteString(" +")
	b.WriteString(c.At.String())
	b.WriteByte(' ')
	b.WriteString(c.call())
	if c.Op == OpNow {
		return b.String()
	}
	b.WriteString(" -> ")
	switch {
	case c.Op.counts():
		b.WriteString(strconv.Itoa(c.N))
		if c.Err != nil {
			b.WriteByte(' ')
			b.WriteString(c.Err.Error())
		}
	case c.Err != nil:
		b.WriteString(c.Err.Error())
	default:
		b.WriteString("ok")
	}
	switch c.Op {
	case OpWait:
		if c.N > 0 {
			b.WriteByte(' ')
			b.WriteString(eventsString(c.Events))
		}
		b.WriteString(" (took ")
		b.WriteString(c.Took.String())
		b.WriteByte(')')
	case OpRead, OpWrite:
		if c.N > 0 && max != 0 {
			b.WriteByte(' ')
			b.WriteString(quote(c.Data, c.N, max))
		}
	}
	return b.String()
}

// call formats c's call without its result, as "read fd=8 4096".
func (c Call) call() string {
	s := c.Op.String()
	if c.Op.hasFD() {
		s += " fd=" + strconv.Itoa(c.FD)
	}
	switch c.Op {
	case OpRead, OpWrite:
		s += " " + strconv.Itoa(c.Size)
	case OpDial, OpListen:
		s += " " + strconv.Quote(c.Addr)
	case OpAdd, OpModify:
		s += " " + c.Interest.String()
	case OpWait:
		s += " " + strconv.Itoa(c.Size) + " "
		if c.Timeout < 0 {
			s += "forever" // no deadline: it waits until something is ready
		} else {
			s += c.Timeout.String()
		}
	}
	return s
}

// Asked formats the call c stands for, without its result and time, as
// "read fd=8 4096".
func (c Call) Asked() string { return c.call() }

// Print writes rec readably to w: a line saying what was recorded, then
// one call a line, as Call.Text(max) formats them.
func (rec *Recording) Print(w io.Writer, max int) error {
	b := bufio.NewWriter(w)
	h := &rec.Header
	fmt.Fprintf(b, "recording of %s (%v), started %s, %d calls", h.Backend.Name, h.Backend, h.Start.UTC().Format(time.RFC3339Nano), len(rec.Calls))
	for _, kept := range [2]struct {
		what string
		n    int
	}{{"read", h.Reads}, {"written", h.Writes}} {
		switch {
		case kept.n < 0:
			fmt.Fprintf(b, "; bytes %s not kept", kept.what)
		case kept.n > 0:
			fmt.Fprintf(b, "; the first %d bytes %s kept", kept.n, kept.what)
		}
	}
	b.WriteByte('\n')
	for _, c := range rec.Calls {
		b.WriteString(c.Text(max))
		b.WriteByte('\n')
	}
	return b.Flush()
}

// String formats rec as Print does, quoting up to 32 bytes of each call.
func (rec *Recording) String() string {
	var b strings.Builder
	rec.Print(&b, 32)
	return b.String()
}

func eventsString(evs []mux.Event) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, ev := range evs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ev.String())
	}
	b.WriteByte(']')
	return b.String()
}

// quote quotes up to max of the n bytes moved, of which data holds the
// first (max negative: all of them), and says when some are not shown.
func quote(data []byte, n, max int) string {
	show := data
	if max >= 0 && len(show) > max {
		show = show[:max]
	}
	s := strconv.Quote(string(show))
	if len(show) < n {
		s += "…"
	}
	return s
}

// SameCall reports whether c and d are the same call with the same
// arguments: the same operation on the same descriptor, address,
// interest, timeout and size. Which bytes a write asked to write are
// part of its result (Data), not of this comparison: see Moved.
func (c Call) SameCall(d Call) bool {
	return c.Op == d.Op && c.FD == d.FD && c.Addr == d.Addr && c.Interest == d.Interest &&
		c.Timeout == d.Timeout && c.Size == d.Size
}

// SameResult reports whether c and d, the same call, had the same
// result: the same count, error (the same errno and the same
// Multiplexer error, whatever their texts), events in the same order,
// the same bytes as far as both recordings kept them and the same
// checksum of all of them, and for Now the same reading. When each call
// was made and how long it took are not compared.
func (c Call) SameResult(d Call) bool {
	if c.N != d.N || !SameErr(c.Err, d.Err) || !slices.Equal(c.Events, d.Events) {
		return false
	}
	switch c.Op {
	case OpNow:
		return c.At == d.At
	case OpRead, OpWrite:
		k := min(len(c.Data), len(d.Data))
		return c.Sum == d.Sum && bytes.Equal(c.Data[:k], d.Data[:k])
	}
	return true
}

// Diff returns the index of the first call at which a and b differ —
// another call, or the same call with another result, as SameCall and
// SameResult compare them — or -1 if they are the same, call for call.
// When one is the other cut short, the index is the length of the
// shorter.
func Diff(a, b []Call) int {
	for i := range min(len(a), len(b)) {
		if !a[i].SameCall(b[i]) || !a[i].SameResult(b[i]) {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// Moved reports whether p are the bytes c moved, as far as the recording
// tells: p has c.N bytes, begins with c.Data and has c.Sum as checksum.
func (c Call) Moved(p []byte) bool {
	return len(p) == c.N && bytes.HasPrefix(p, c.Data) &&
		(len(c.Data) == c.N || crc32.Checksum(p, castagnoli) == c.Sum)
}

// SameErr reports whether a and b are the same error as far as a
// recording tells errors apart: both nil, or the same errno (0 if none)
// and the same error of package mux (ErrClosed, …, or none). Their texts
// may differ: two backends word the same error differently.
func SameErr(a, b error) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	return errnoOf(a) == errnoOf(b) && kindOf(a) == kindOf(b)
}

// kinds are the errors of package mux a recording tells apart, by their
// index plus one.
var kinds = [...]error{mux.ErrClosed, mux.ErrExists, mux.ErrNotAdded, mux.ErrBadFD, mux.ErrFDLimit, mux.ErrInvalid, mux.ErrBusy}

// kindOf returns 1 + the index in kinds of the error of package mux err
// is, or 0.
func kindOf(err error) int {
	if err == nil {
		return 0
	}
	if _, ok := err.(syscall.Errno); ok {
		return 0 // the common case, EAGAIN: no need to ask errors.Is seven times
	}
	for i, k := range kinds {
		if errors.Is(err, k) {
			return i + 1
		}
	}
	return 0
}

// errnoOf returns the errno err is or wraps, or 0.
func errnoOf(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	var e syscall.Errno
	errors.As(err, &e)
	return e
}

// Error is an error as a recording keeps it, when it is more than a bare
// errno: the errno it wraps, the error of package mux it is, and its
// text. errors.Is(e, mux.ErrClosed) and errors.Is(e, syscall.EBADF) hold
// as they did for the error recorded.
type Error struct {
	Errno syscall.Errno // 0 if none
	Kind  error         // mux.ErrClosed, mux.ErrExists, …, or nil
	Text  string        // what the error said
}

func (e *Error) Error() string { return e.Text }

// Is reports whether target is e's Kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && errors.Is(e.Kind, target) }

// Unwrap returns e's errno, or nil.
func (e *Error) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}
