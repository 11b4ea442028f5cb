package statemachine

import (
	"bytes"
	"io"
)

// HTTPResponse is a Framing for one HTTP/1.x response, following RFC 9112
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

// maxChunkSize bounds a chunk's size so that lengths cannot overflow.
const maxChunkSize = 1 << 40

// Frame returns the length of the response at the start of buf.
func (h HTTPResponse) Frame(buf []byte, atEOF bool) (int, bool, error) {
	off := 0
	for {
		hd, ok, err := parseHead(buf[off:])
		if err != nil {
			return 0, false, err
		}
		if !ok {
			return 0, false, needMore(atEOF)
		}
		end := off + hd.len
		switch {
		case hd.status == 101:
			return end, true, nil
		case hd.status < 200:
			off = end // interim response: the final one follows
			continue
		case h.Method == "HEAD" || hd.status == 204 || hd.status == 304:
			return end, true, nil
		case h.Method == "CONNECT" && hd.status < 300:
			return end, true, nil
		case hd.body == bodyChunked:
			n, ok, err := chunkedLen(buf[end:])
			if err != nil || !ok {
				if err == nil {
					err = needMore(atEOF)
				}
				return 0, false, err
			}
			return end + n, true, nil
		case hd.body == bodyLength:
			if int64(len(buf)-end) >= hd.length {
				return end + int(hd.length), true, nil
			}
			return 0, false, needMore(atEOF)
		default: // close-delimited
			if !atEOF {
				return 0, false, nil
			}
			return len(buf), true, nil
		}
	}
}

func needMore(atEOF bool) error {
	if atEOF {
		return io.ErrUnexpectedEOF
	}
	return nil
}

type bodyKind uint8

const (
	bodyClose bodyKind = iota
	bodyLength
	bodyChunked
)

type head struct {
	len    int // bytes up to and including the empty line
	status int
	body   bodyKind
	length int64 // for bodyLength
}

// nextLine returns the line at the start of b without its line ending, and
// the offset just past the ending; ok is false when b holds no full line.
func nextLine(b []byte) (line []byte, next int, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, 0, false
	}
	line = b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, i + 1, true
}

// parseHead parses the status line and header fields at the start of b.
func parseHead(b []byte) (head, bool, error) {
	var h head
	line, off, ok := nextLine(b)
	if !ok {
		if len(b) >= 5 && !bytes.HasPrefix(b, []byte("HTTP/")) {
			return h, false, malformed("status line does not start with HTTP/")
		}
		return h, false, nil
	}
	status, err := parseStatusLine(line)
	if err != nil {
		return h, false, err
	}
	h.status = status
	var (
		chunked, haveTE bool
		haveLength      bool
	)
	for {
		line, n, ok := nextLine(b[off:])
		if !ok {
			return h, false, nil
		}
		off += n
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return h, false, malformed("obsolete line folding")
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return h, false, malformed("header field without a name")
		}
		name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		if bytes.ContainsAny(name, " \t") {
			return h, false, malformed("white space in a header field name")
		}
		switch {
		case equalFold(name, "Transfer-Encoding"):
			// Codings may be split over several fields; only the last
			// one counts.
			haveTE = true
			chunked = lastCodingIsChunked(value)
		case equalFold(name, "Content-Length"):
			n, err := parseContentLength(value)
			if err != nil {
				return h, false, err
			}
			if haveLength && n != h.length {
				return h, false, malformed("differing Content-Length values")
			}
			haveLength, h.length = true, n
		}
	}
	h.len = off
	switch {
	case haveTE && chunked:
		h.body = bodyChunked
	case haveTE:
		h.body = bodyClose
	case haveLength:
		h.body = bodyLength
	default:
		h.body = bodyClose
	}
	return h, true, nil
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

// chunkedLen returns the length of a chunked body, trailer section
// included, at the start of b.
func chunkedLen(b []byte) (int, bool, error) {
	off := 0
	for {
		line, n, ok := nextLine(b[off:])
		if !ok {
			return 0, false, nil
		}
		off += n
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		line = bytes.TrimRight(line, " \t")
		if len(line) == 0 {
			return 0, false, malformed("empty chunk size")
		}
		var size int64
		for _, c := range line {
			d, ok := hexDigit(c)
			if !ok {
				return 0, false, malformed("bad chunk size")
			}
			size = size<<4 | int64(d)
			if size > maxChunkSize {
				return 0, false, malformed("chunk too large")
			}
		}
		if size == 0 {
			break
		}
		if int64(len(b)-off) < size {
			return 0, false, nil
		}
		off += int(size)
		line, n, ok = nextLine(b[off:])
		if !ok {
			if len(b)-off >= 2 {
				return 0, false, malformed("chunk data not followed by a line ending")
			}
			return 0, false, nil
		}
		if len(line) != 0 {
			return 0, false, malformed("chunk data not followed by a line ending")
		}
		off += n
	}
	// Trailer section: fields up to an empty line.
	for {
		line, n, ok := nextLine(b[off:])
		if !ok {
			return 0, false, nil
		}
		off += n
		if len(line) == 0 {
			return off, true, nil
		}
	}
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
