package statemachine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/muxkit/muxkit/mux"
	"pgregory.net/rapid"
)

func TestFramings(t *testing.T) {
	tests := []struct {
		name   string
		f      Framing
		buf    string
		atEOF  bool
		n      int
		ok     bool
		errIs  error
		anyErr bool
	}{
		{"until EOF waits", UntilEOF{}, "abc", false, 0, false, nil, false},
		{"until EOF ends", UntilEOF{}, "abc", true, 3, true, nil, false},
		{"until EOF empty", UntilEOF{}, "", true, 0, true, nil, false},
		{"fixed short", FixedLength(4), "abc", false, 0, false, nil, false},
		{"fixed exact", FixedLength(3), "abc", false, 3, true, nil, false},
		{"fixed more", FixedLength(2), "abc", false, 2, true, nil, false},
		{"fixed truncated", FixedLength(4), "abc", true, 0, false, io.ErrUnexpectedEOF, false},
		{"fixed zero", FixedLength(0), "", false, 0, true, nil, false},
		{"fixed negative", FixedLength(-1), "", false, 0, false, ErrMalformed, false},
		{"delimiter waits", Line, "ab", false, 0, false, nil, false},
		{"delimiter first", Line, "ab\ncd\n", false, 3, true, nil, false},
		{"delimiter CRLF split", Delimiter("\r\n"), "ab\r", false, 0, false, nil, false},
		{"delimiter CRLF", Delimiter("\r\n"), "ab\r\nx", false, 4, true, nil, false},
		{"delimiter truncated", Line, "ab", true, 0, false, io.ErrUnexpectedEOF, false},
		{"delimiter empty", Delimiter(""), "ab", false, 0, false, ErrMalformed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok, err := tt.f.Frame([]byte(tt.buf), tt.atEOF)
			if n != tt.n || ok != tt.ok || !errors.Is(err, tt.errIs) || (err != nil) != (tt.errIs != nil) {
				t.Errorf("%#v.Frame(%q, %v) = %d, %v, %v; want %d, %v, %v", tt.f, tt.buf, tt.atEOF, n, ok, err, tt.n, tt.ok, tt.errIs)
			}
		})
	}
}

func TestHTTPResponseFraming(t *testing.T) {
	tests := []struct {
		name   string
		method string
		buf    string
		atEOF  bool
		rest   int // bytes after the message; -1: no message
		err    error
	}{
		{"content length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcXX", false, 2, nil},
		{"content length short", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab", false, -1, nil},
		{"content length truncated", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab", true, -1, io.ErrUnexpectedEOF},
		{"content length list", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab", false, 0, nil},
		{"content length differ", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\nab", false, -1, ErrMalformed},
		{"content length bad", "GET", "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n", false, -1, ErrMalformed},
		{"head has no body", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", false, 0, nil},
		{"204 has no body", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", false, 0, nil},
		{"304 has no body", "GET", "HTTP/1.1 304 Not Modified\r\n\r\nzz", false, 2, nil},
		{"100 then 200", "GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", false, 0, nil},
		{"100 alone", "GET", "HTTP/1.1 100 Continue\r\n\r\n", false, -1, nil},
		{"101 ends", "GET", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nraw", false, 3, nil},
		{"connect 200 ends", "CONNECT", "HTTP/1.1 200 OK\r\n\r\nraw", false, 3, nil},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\nXX", false, 2, nil},
		{"chunked incomplete", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n", false, -1, nil},
		{"chunked bad size", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, -1, ErrMalformed},
		{"chunked no CRLF after data", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc", false, -1, ErrMalformed},
		{"chunked beats length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", false, 0, nil},
		{"other coding is close-delimited", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", true, 0, nil},
		{"close-delimited waits", "GET", "HTTP/1.1 200 OK\r\n\r\nabc", false, -1, nil},
		{"close-delimited ends", "GET", "HTTP/1.1 200 OK\r\n\r\nabc", true, 0, nil},
		{"bare LF", "GET", "HTTP/1.0 200 OK\nContent-Length: 1\n\nab", false, 1, nil},
		{"not HTTP", "GET", "SSH-2.0-x\r\n", false, -1, ErrMalformed},
		{"not HTTP early", "GET", "SSH-2", false, -1, ErrMalformed},
		{"bad status", "GET", "HTTP/1.1 2x0 OK\r\n\r\n", false, -1, ErrMalformed},
		{"folding", "GET", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", false, -1, ErrMalformed},
		{"space before colon", "GET", "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n", false, -1, ErrMalformed},
		{"header truncated", "GET", "HTTP/1.1 200 OK\r\nContent-Len", true, -1, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok, err := HTTPResponse{Method: tt.method}.Frame([]byte(tt.buf), tt.atEOF)
			wantOK, wantN := tt.rest >= 0, len(tt.buf)-tt.rest
			if ok != wantOK || ok && n != wantN || !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil) {
				t.Errorf("Frame(%q, %v) = %d, %v, %v; want n %d (ok %v), error %v", tt.buf, tt.atEOF, n, ok, err, wantN, wantOK, tt.err)
			}
		})
	}
}

// httpResponse is a generated HTTP response and how it is framed.
type httpResponse struct {
	Bytes          []byte
	Method         string
	CloseDelimited bool
}

// genHTTPResponse generates well-formed responses of every framing kind,
// with interim responses, header case and line endings varied.
func genHTTPResponse() *rapid.Generator[httpResponse] {
	return rapid.Custom(func(t *rapid.T) httpResponse {
		eol := rapid.SampledFrom([]string{"\r\n", "\n"}).Draw(t, "eol")
		var b strings.Builder
		for range rapid.IntRange(0, 2).Draw(t, "interim") {
			code := rapid.SampledFrom([]int{100, 102, 103}).Draw(t, "interim code")
			fmt.Fprintf(&b, "HTTP/1.1 %d Interim%sX-I: 1%s%s", code, eol, eol, eol)
		}
		r := httpResponse{Method: rapid.SampledFrom([]string{"GET", "POST", "HEAD"}).Draw(t, "method")}
		body := genBytes(t, "body", "ab\r\n0", 30)
		header := func(name, value string) {
			if rapid.Bool().Draw(t, "lower") {
				name = strings.ToLower(name)
			}
			fmt.Fprintf(&b, "%s: %s%s", name, value, eol)
		}
		kind := rapid.IntRange(0, 4).Draw(t, "body kind")
		code := 200
		switch kind {
		case 3:
			code = rapid.SampledFrom([]int{204, 304}).Draw(t, "no body code")
		case 4:
			code = 101
		}
		fmt.Fprintf(&b, "HTTP/1.%d %d Reason phrase%s", rapid.IntRange(0, 1).Draw(t, "minor"), code, eol)
		if rapid.Bool().Draw(t, "extra header") {
			header("X-Extra", "v")
		}
		switch kind {
		case 0: // Content-Length
			header("Content-Length", fmt.Sprint(len(body)))
			b.WriteString(eol)
			if r.Method != "HEAD" {
				b.Write(body)
			}
		case 1: // chunked
			header("Transfer-Encoding", "chunked")
			b.WriteString(eol)
			if r.Method != "HEAD" {
				for rest := body; len(rest) > 0; {
					k := rapid.IntRange(1, len(rest)).Draw(t, "chunk")
					fmt.Fprintf(&b, "%x", k)
					if rapid.Bool().Draw(t, "ext") {
						b.WriteString(";e=1")
					}
					b.WriteString("\r\n")
					b.Write(rest[:k])
					b.WriteString("\r\n")
					rest = rest[k:]
				}
				b.WriteString("0\r\n")
				if rapid.Bool().Draw(t, "trailer") {
					b.WriteString("T: v\r\n")
				}
				b.WriteString("\r\n")
			}
		case 2: // close-delimited
			b.WriteString(eol)
			if r.Method != "HEAD" {
				b.Write(body)
				r.CloseDelimited = true
			}
		default: // no body
			if rapid.Bool().Draw(t, "misleading length") {
				header("Content-Length", "5")
			}
			b.WriteString(eol)
		}
		r.Bytes = []byte(b.String())
		return r
	})
}

// TestHTTPResponseProperties checks that every prefix of a well-formed
// response is incomplete, that the whole is complete at exactly its length
// whatever follows, and that truncation at end of stream is an error.
func TestHTTPResponseProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genHTTPResponse().Draw(t, "response")
		f := HTTPResponse{Method: r.Method}
		for i := range len(r.Bytes) {
			n, ok, err := f.Frame(r.Bytes[:i], false)
			if ok || err != nil {
				t.Fatalf("Frame of the first %d of %d bytes = %d, %v, %v; want incomplete\n%q", i, len(r.Bytes), n, ok, err, r.Bytes)
			}
			n, ok, err = f.Frame(r.Bytes[:i], true)
			if !r.CloseDelimited && (ok || !errors.Is(err, io.ErrUnexpectedEOF)) {
				t.Fatalf("Frame at EOF of the first %d of %d bytes = %d, %v, %v; want io.ErrUnexpectedEOF\n%q", i, len(r.Bytes), n, ok, err, r.Bytes)
			}
		}
		tail := []byte{}
		if !r.CloseDelimited {
			tail = genBytes(t, "tail", "HTP/1\r\n", 10)
		}
		buf := append(bytes.Clone(r.Bytes), tail...)
		n, ok, err := f.Frame(buf, r.CloseDelimited)
		if !ok || err != nil || n != len(r.Bytes) {
			t.Fatalf("Frame of the whole response = %d, %v, %v; want %d, true, nil\n%q", n, ok, err, len(r.Bytes), buf)
		}
	})
}

// TestFramingsResume checks that a framing resumed where its last scan
// stopped answers exactly as Frame does on the same bytes from the start,
// whatever pieces the bytes arrive in, and that it never reads again the
// bytes it said it was done with: they are overwritten after each call.
func TestFramingsResume(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var f resumer
		var msg []byte
		atEOF := false
		if rapid.Bool().Draw(t, "http") {
			r := genHTTPResponse().Draw(t, "response")
			f, msg, atEOF = HTTPResponse{Method: r.Method}, r.Bytes, r.CloseDelimited
		} else {
			d := rapid.SampledFrom([]Delimiter{"\n", "\r\n", "END"}).Draw(t, "delimiter")
			f, msg = d, append(genBytes(t, "line", "EN\r\nx", 60), d...)
		}
		orig := append(bytes.Clone(msg), genBytes(t, "tail", "HTP/1\r\n", 10)...)
		if rapid.IntRange(0, 3).Draw(t, "mutate") == 0 && len(orig) > 0 {
			orig[rapid.IntRange(0, len(orig)-1).Draw(t, "at")] = rapid.SampledFrom([]byte("X\r\n :0;")).Draw(t, "byte")
		}
		work := bytes.Clone(orig)
		var sc scan
		for p := 0; p <= len(orig); {
			eof := atEOF && p == len(orig)
			n, ok, err := f.resume(work[:p], eof, &sc)
			wn, wok, werr := f.(Framing).Frame(orig[:p], eof)
			if n != wn || ok != wok || (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
				t.Fatalf("resumed at %d bytes of %q: %d, %v, %v; Frame from the start: %d, %v, %v", p, orig, n, ok, err, wn, wok, werr)
			}
			if ok || err != nil {
				return
			}
			if sc.off > p {
				t.Fatalf("scan done with %d bytes of %d", sc.off, p)
			}
			for i := range sc.off {
				work[i] = 0xff // done with: must not be read again
			}
			if p == len(orig) {
				break
			}
			p += rapid.IntRange(1, len(orig)-p).Draw(t, "piece")
		}
	})
}

// TestFramingWorkIsLinear counts the bytes a machine's framing examines
// while a message arrives in small reads: about once each, so the work is
// linear in the bytes received. A framing that scanned from the start on
// every read would examine them about as many times as there are reads.
func TestFramingWorkIsLinear(t *testing.T) {
	longField := "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 64<<10) + "\r\nContent-Length: 2\r\n\r\nok"
	for _, tc := range []struct {
		name     string
		resp     []byte
		readSize int
	}{
		{"one-byte chunks, 4 KiB reads", oneByteChunks(256 << 10), 4096},
		{"one-byte chunks, 7-byte reads", oneByteChunks(64 << 10), 7},
		{"a 64 KiB header field, 1-byte reads", []byte(longField), 1},
	} {
		c := receive(t, tc.resp, tc.readSize)
		if n := len(tc.resp); c.scan.scanned > 2*n || c.scan.scanned < n/2 {
			t.Errorf("%s: the framing examined %d bytes of a %d-byte response; want between %d and %d (each about once)", tc.name, c.scan.scanned, n, n/2, 2*n)
		}
	}

	line := append(bytes.Repeat([]byte("a"), 64<<10), '\n')
	s := NewServerConn(ServerConfig{MaxRequest: 1 << 20, ReadSize: 1}, t0)
	out := s.Step(Ready(mux.Readable))
	for pos := 0; pos < len(line) && out.Op == OpRead; pos++ {
		if pos == len(line)-1 {
			if n := len(line); s.scan.scanned > 2*n || s.scan.scanned < n/2 {
				t.Errorf("a %d-byte line read a byte at a time: the ServerConn's framing examined %d bytes; want between %d and %d (each about once)", n, s.scan.scanned, n/2, 2*n)
			}
		}
		out = s.Step(Read(line[pos:pos+1], nil))
	}
	if s.Queued() != len(line) || s.scan != (scan{}) {
		t.Errorf("ServerConn after a %d-byte line: %d bytes queued, scan %+v; want its echo queued and a fresh scan for the next request", len(line), s.Queued(), s.scan)
	}
}
