package statemachine

import (
	"fmt"
	"testing"

	"github.com/muxkit/muxkit/mux"
)

// oneByteChunks returns an HTTP response of about size bytes whose body is
// in chunks of one byte each: the most framing work per byte received.
func oneByteChunks(size int) []byte {
	b := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
	for len(b) < size {
		b = append(b, "1\r\nx\r\n"...)
	}
	return append(b, "0\r\n\r\n"...)
}

// receive drives a Client whose response is resp, read at most readSize
// bytes at a time, until it finishes, and returns it.
func receive(tb testing.TB, resp []byte, readSize int) *Client {
	tb.Helper()
	c := NewClient(ClientConfig{Framing: HTTPResponse{Method: "GET"}, MaxResponse: len(resp), ReadSize: readSize}, t0)
	c.Step(Connected(nil)) // no request: receiving at once
	out := c.Step(Ready(mux.Readable))
	for pos := 0; out.Op == OpRead; {
		n := min(out.Max, len(resp)-pos)
		out = c.Step(Read(resp[pos:pos+n], nil))
		pos += n
	}
	if c.State() != Done || len(c.Response()) != len(resp) {
		tb.Fatalf("Client in %v (err %v) with a %d-byte response; want Done with all %d bytes", c.State(), c.Err(), len(c.Response()), len(resp))
	}
	return &c
}

// BenchmarkChunkedOneByte receives responses whose bodies are in one-byte
// chunks, read 64 KiB at a time (as the fetch command reads): the framing's
// cost per byte must not grow with the size of the response.
func BenchmarkChunkedOneByte(b *testing.B) {
	for _, size := range []int{1 << 20, 4 << 20, 16 << 20} {
		resp := oneByteChunks(size)
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(resp)))
			for b.Loop() {
				receive(b, resp, 64<<10)
			}
		})
	}
}
