package server

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// TestEcho sends each server more than the socket buffers hold before
// reading anything back, so that its writes fall short and it must wait
// for Writable, and checks that every byte comes back in order. The bytes
// are lines of 1 to 256 bytes: the loop's server echoes whole lines.
func TestEcho(t *testing.T) {
	const size = 8 << 20
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i*7 + i>>13)
	}
	want[size-1] = '\n'
	for _, s := range All {
		t.Run(s.Name, func(t *testing.T) {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			ready := make(chan struct{})
			failed := make(chan error, 1)
			// The servers run until the test binary exits.
			go func() { failed <- s.Run(addr, func() { close(ready) }) }()
			select {
			case <-ready:
			case err := <-failed:
				t.Fatalf("%s on %s: %v", s.Name, addr, err)
			case <-time.After(10 * time.Second):
				t.Fatalf("%s on %s: not ready after 10s", s.Name, addr)
			}
			c, err := net.Dial("tcp4", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			wrote := make(chan error, 1)
			go func() {
				_, err := c.Write(want)
				wrote <- err
			}()
			got := make([]byte, size)
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("%s echoed %v", s.Name, err)
			}
			if err := <-wrote; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				i := 0
				for got[i] == want[i] {
					i++
				}
				t.Fatalf("%s echoed %d bytes, the first wrong one at offset %d", s.Name, size, i)
			}
		})
	}
}
