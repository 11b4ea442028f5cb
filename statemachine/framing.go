package statemachine

import (
	"bytes"
	"io"
)

// A Framing decides where a message ends in a stream of bytes.
//
// Frame is given the bytes received so far, starting at a message, and
// whether the stream has ended (atEOF). It returns ok == true and the
// message's length n (0 <= n <= len(buf)) when buf begins with a complete
// message; ok == false when more bytes are needed; or an error when buf
// cannot begin a valid message. At EOF, a message that can no longer be
// completed is an error, normally wrapping [io.ErrUnexpectedEOF].
//
// Frame must be a pure function of its arguments. A machine calls it again
// with the same bytes and more after each read, until the message is
// complete, so a Framing of your own that scans from the start each time
// costs time that grows with the square of a message's length. The
// framings of this package do not: in a machine, each resumes where its
// last scan of the message stopped, and its work is linear in the bytes
// received.
type Framing interface {
	Frame(buf []byte, atEOF bool) (n int, ok bool, err error)
}

// A resumer is a Framing that can resume a scan: resume is Frame, given
// where the scan of the same message stopped after the call before.
type resumer interface {
	resume(buf []byte, atEOF bool, sc *scan) (n int, ok bool, err error)
}

// scan is where a framing's scan of one message stopped, so that the next
// call, given the same bytes and more, resumes there. The zero scan starts
// a message. It holds no pointers: copying a machine copies its scan.
type scan struct {
	off     int   // bytes at the start of the message done with, never read again
	seen    int   // buf[off:seen] holds no line ending, when seen > off
	phase   phase // where an HTTP response is in its grammar
	status  int   // the status code of the head being read
	fields  fields
	left    int64 // bytes of the body or of the chunk still to come
	scanned int   // bytes examined in all, for the tests of linearity
}

// frame calls f on buf, resuming the scan sc when f can. (Delimiter, the
// framing of every request of a line server, is told apart by its type
// alone, before the method look-up the other resumers need.)
func frame(f Framing, buf []byte, atEOF bool, sc *scan) (int, bool, error) {
	switch f := f.(type) {
	case Delimiter:
		return f.resume(buf, atEOF, sc)
	case resumer:
		return f.resume(buf, atEOF, sc)
	}
	return f.Frame(buf, atEOF)
}

// line returns the line at sc.off without its line ending, and moves sc.off
// past it; ok is false when buf holds no whole line yet. It searches only
// bytes it has not searched before.
func (sc *scan) line(buf []byte) (line []byte, ok bool) {
	from := max(sc.off, sc.seen)
	i := bytes.IndexByte(buf[from:], '\n')
	if i < 0 {
		sc.scanned += len(buf) - from
		sc.seen = len(buf)
		return nil, false
	}
	end := from + i
	line = buf[sc.off:end]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	sc.scanned += i + 1 + len(line) // the search, and the caller's parse of the line
	sc.off = end + 1
	return line, true
}

// UntilEOF is a [Framing] whose message is every byte up to end of stream.
type UntilEOF struct{}

// Frame returns len(buf) at EOF and asks for more before.
func (UntilEOF) Frame(buf []byte, atEOF bool) (int, bool, error) {
	if !atEOF {
		return 0, false, nil
	}
	return len(buf), true, nil
}

// FixedLength is a [Framing] whose message is that many bytes.
type FixedLength int

// Frame returns n once buf holds n bytes.
func (n FixedLength) Frame(buf []byte, atEOF bool) (int, bool, error) {
	switch {
	case n < 0:
		return 0, false, malformed("negative fixed length")
	case len(buf) >= int(n):
		return int(n), true, nil
	case atEOF:
		return 0, false, io.ErrUnexpectedEOF
	}
	return 0, false, nil
}

// Delimiter is a [Framing] whose message ends with the delimiter, which is
// part of the message.
type Delimiter string

// Line is the [Delimiter] of newline-terminated lines.
const Line Delimiter = "\n"

// Frame returns the length up to and including the first delimiter.
func (d Delimiter) Frame(buf []byte, atEOF bool) (int, bool, error) {
	var sc scan
	return d.resume(buf, atEOF, &sc)
}

// resume searches for the delimiter from where it could start, given that
// none starts before sc.off.
func (d Delimiter) resume(buf []byte, atEOF bool, sc *scan) (int, bool, error) {
	if d == "" {
		return 0, false, malformed("empty delimiter")
	}
	var i int
	if len(d) == 1 {
		i = bytes.IndexByte(buf[sc.off:], d[0])
	} else {
		i = bytes.Index(buf[sc.off:], []byte(d))
	}
	if i >= 0 {
		sc.scanned += i + len(d)
		return sc.off + i + len(d), true, nil
	}
	sc.scanned += len(buf) - sc.off
	sc.off = max(sc.off, len(buf)-len(d)+1) // a delimiter may begin in the last bytes
	if atEOF {
		return 0, false, io.ErrUnexpectedEOF
	}
	return 0, false, nil
}

// malformedError is an error that wraps ErrMalformed.
type malformedError string

func (e malformedError) Error() string        { return "statemachine: malformed message: " + string(e) }
func (e malformedError) Is(target error) bool { return target == ErrMalformed }

func malformed(why string) error { return malformedError(why) }
