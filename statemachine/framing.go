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
// completed is an error, normally wrapping io.ErrUnexpectedEOF.
//
// Frame must be a pure function of its arguments. It is called again with
// the same bytes and more, so it may scan from the start each time.
type Framing interface {
	Frame(buf []byte, atEOF bool) (n int, ok bool, err error)
}

// UntilEOF is a Framing whose message is every byte up to end of stream.
type UntilEOF struct{}

// Frame returns len(buf) at EOF and asks for more before.
func (UntilEOF) Frame(buf []byte, atEOF bool) (int, bool, error) {
	if !atEOF {
		return 0, false, nil
	}
	return len(buf), true, nil
}

// FixedLength is a Framing whose message is that many bytes.
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

// Delimiter is a Framing whose message ends with the delimiter, which is
// part of the message.
type Delimiter string

// Line is the Delimiter of newline-terminated lines.
const Line Delimiter = "\n"

// Frame returns the length up to and including the first delimiter.
func (d Delimiter) Frame(buf []byte, atEOF bool) (int, bool, error) {
	if d == "" {
		return 0, false, malformed("empty delimiter")
	}
	if i := bytes.Index(buf, []byte(d)); i >= 0 {
		return i + len(d), true, nil
	}
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
