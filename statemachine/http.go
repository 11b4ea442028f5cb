package statemachine

import (
	"bytes"
	"io"
)

// HTTPResponse is a [Framing] for one HTTP/1.x response, following RFC 9112
// section 6.3:
//
//   - a response to HEAD, a 1xx, 204 or 304 response, and a 2xx response to
//     CONNECT end with their header;
//   - interim 1xx responses other than 101 are followed by the final
//     response, and the message Frame reports includes them;
//   - otherwise a Transfer-Encoding whose final coding is chunked frames
//     the body as chunks (and trailer fields); any other Transfer-Encoding
//     makes the body run to end of stream;
//   - otherwise Content-Length gives the body's length (a list of equal
//     values is accepted, differing values are malformed);
//   - otherwise the body runs to end of stream.
//
// Lines may end with CRLF or a bare LF. Bytes after the message are not
// part of it.
type HTTPResponse struct {
	// Method is the method of the request the response answers, such as
	// "GET" or "HEAD". It decides whether the response has a body.
	Method string
}

// Frame returns the length of the response at the start of buf.
func (h HTTPResponse) Frame(buf []byte, atEOF bool) (int, bool, error) {
	var sc scan
	return h.resume(buf, atEOF, &sc)
}

// phase is where a response is in its grammar: at the start of which line,
// or in which body.
type phase uint8

const (
	atStatus    phase = iota // at a status line
	atField                  // at a header field, or the empty line ending the head
	inLength                 // in a body of known length: sc.left bytes to come
	atChunkSize              // at a chunk-size line
	inChunk                  // in a chunk's data: sc.left bytes to come
	atChunkEnd               // at the line ending after a chunk's data
	atTrailer                // at a trailer field, or the empty line ending the message
	inClose                  // in a body that runs to end of stream
)

// fields is what the header fields read so far say about the body.
type fields struct {
	haveTE, chunked bool  // Transfer-Encoding seen; its last coding is chunked
	haveLength      bool  // Content-Length seen
	length          int64 // its value
}

// maxChunkSize bounds a chunk's size so that lengths cannot overflow.
const maxChunkSize = 1 << 40

// resume reads the response on from where sc says the last call stopped:
// each line is searched for and parsed once, and body bytes are counted,
// not read.
func (h HTTPResponse) resume(buf []byte, atEOF bool, sc *scan) (int, bool, error) {
	for {
		switch sc.phase {
		case inLength, inChunk:
			if avail := int64(len(buf) - sc.off); avail < sc.left {
				sc.off, sc.left = len(buf), sc.left-avail
				return 0, false, needMore(atEOF)
			}
			sc.off += int(sc.left)
			sc.left = 0
			if sc.phase == inLength {
				return sc.off, true, nil
			}
			sc.phase = atChunkEnd
			continue
		case inClose:
			if !atEOF {
				return 0, false, nil
			}
			return len(buf), true, nil
		}
		line, ok := sc.line(buf)
		if !ok {
			if err := sc.partial(buf); err != nil {
				return 0, false, err
			}
			return 0, false, needMore(atEOF)
		}
		switch done, err := h.take(line, sc); {
		case err != nil:
			return 0, false, err
		case done:
			return sc.off, true, nil
		}
	}
}

// partial checks the incomplete line at sc.off for what already makes the
// message malformed.
func (sc *scan) partial(buf []byte) error {
	rest := buf[sc.off:]
	switch {
	case sc.phase == atStatus && len(rest) >= 5 && !bytes.HasPrefix(rest, []byte("HTTP/")):
		return malformed("status line does not start with HTTP/")
	case sc.phase == atChunkEnd && len(rest) >= 2:
		return malformed("chunk data not followed by a line ending")
	}
	return nil
}

// take reads one whole line of the response, and reports whether it ended
// the message (which is then sc.off bytes long).
func (h HTTPResponse) take(line []byte, sc *scan) (done bool, err error) {
	switch sc.phase {
	case atStatus:
		if sc.status, err = parseStatusLine(line); err != nil {
			return false, err
		}
		sc.fields = fields{}
		sc.phase = atField
	case atField:
		if len(line) > 0 {
			return false, sc.fields.parse(line)
		}
		return h.body(sc), nil
	case atChunkSize:
		size, err := parseChunkSize(line)
		if err != nil {
			return false, err
		}
		sc.phase, sc.left = inChunk, size
		if size == 0 {
			sc.phase = atTrailer
		}
	case atChunkEnd:
		if len(line) != 0 {
			return false, malformed("chunk data not followed by a line ending")
		}
		sc.phase = atChunkSize
	case atTrailer:
		return len(line) == 0, nil
	}
	return false, nil
}

// body decides, at the end of a head, how the message goes on, and reports
// whether it ends there.
func (h HTTPResponse) body(sc *scan) (done bool) {
	f := sc.fields
	switch {
	case sc.status == 101:
		return true
	case sc.status < 200:
		sc.phase = atStatus // interim response: the final one follows
	case h.Method == "HEAD" || sc.status == 204 || sc.status == 304:
		return true
	case h.Method == "CONNECT" && sc.status < 300:
		return true
	case f.haveTE && f.chunked:
		sc.phase = atChunkSize
	case f.haveTE:
		sc.phase = inClose
	case f.haveLength:
		sc.phase, sc.left = inLength, f.length
	default:
		sc.phase = inClose
	}
	return false
}

func needMore(atEOF bool) error {
	if atEOF {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// parse reads one header field into f.
func (f *fields) parse(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		return malformed("obsolete line folding")
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return malformed("header field without a name")
	}
	name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
	if bytes.ContainsAny(name, " \t") {
		return malformed("white space in a header field name")
	}
	switch {
	case equalFold(name, "Transfer-Encoding"):
		// Codings may be split over several fields; only the last one
		// counts.
		f.haveTE = true
		f.chunked = lastCodingIsChunked(value)
	case equalFold(name, "Content-Length"):
		n, err := parseContentLength(value)
		if err != nil {
			return err
		}
		if f.haveLength && n != f.length {
			return malformed("differing Content-Length values")
		}
		f.haveLength, f.length = true, n
	}
	return nil
}

// parseStatusLine parses "HTTP/1.1 200 OK" and returns the status code.
func parseStatusLine(line []byte) (int, error) {
	// HTTP-version SP status-code [SP reason-phrase]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/")) ||
		!isDigit(line[5]) || line[6] != '.' || !isDigit(line[7]) || line[8] != ' ' {
		return 0, malformed("bad status line")
	}
	code := 0
	for _, c := range line[9:12] {
		if !isDigit(c) {
			return 0, malformed("bad status code")
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || len(line) > 12 && line[12] != ' ' {
		return 0, malformed("bad status code")
	}
	return code, nil
}

// parseContentLength parses a Content-Length value: digits, or a
// comma-separated list of equal values.
func parseContentLength(v []byte) (int64, error) {
	n := int64(-1)
	for part := range bytes.SplitSeq(v, []byte(",")) {
		part = bytes.Trim(part, " \t")
		if len(part) == 0 || len(part) > 15 {
			return 0, malformed("bad Content-Length")
		}
		var m int64
		for _, c := range part {
			if !isDigit(c) {
				return 0, malformed("bad Content-Length")
			}
			m = m*10 + int64(c-'0')
		}
		if n >= 0 && m != n {
			return 0, malformed("differing Content-Length values")
		}
		n = m
	}
	return n, nil
}

// lastCodingIsChunked reports whether the last coding in a
// Transfer-Encoding value is chunked.
func lastCodingIsChunked(v []byte) bool {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return equalFold(bytes.Trim(v, " \t"), "chunked")
}

// parseChunkSize parses a chunk-size line: hex digits, then perhaps
// white space and chunk extensions.
func parseChunkSize(line []byte) (int64, error) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // chunk extensions
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 {
		return 0, malformed("empty chunk size")
	}
	var size int64
	for _, c := range line {
		d, ok := hexDigit(c)
		if !ok {
			return 0, malformed("bad chunk size")
		}
		size = size<<4 | int64(d)
		if size > maxChunkSize {
			return 0, malformed("chunk too large")
		}
	}
	return size, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// equalFold reports whether b equals the ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
