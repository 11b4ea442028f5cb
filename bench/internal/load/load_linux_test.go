package load

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// echoServer serves on loopback, answering each read with mangle(bytes
// read), until the test ends; it returns the address.
func echoServer(t *testing.T, mangle func([]byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			go func() {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(mangle(buf[:n])); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// measure runs the generator against addr for a window of d.
func measure(t *testing.T, addr string, conns int, d time.Duration) (Result, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	go func() {
		// Run's stop arrives after its start whether or not the
		// connections are up: a run that never connects fails, and says so.
		time.Sleep(50 * time.Millisecond)
		w.WriteString("start\n")
		time.Sleep(d)
		w.WriteString("stop\n")
	}()
	return Run(Config{Addr: addr, Conns: conns, Size: 64}, int(r.Fd()), func() {})
}

func TestEcho(t *testing.T) {
	addr := echoServer(t, func(b []byte) []byte { return b })
	res, err := measure(t, addr, 10, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.RoundTrips == 0 || res.Wrong != 0 {
		t.Fatalf("against a correct echo server: %d round trips, %d wrong (%s); want some, none wrong", res.RoundTrips, res.Wrong, res.FirstWrong)
	}
	if res.Echoed != 64*res.RoundTrips {
		t.Errorf("%d bytes echoed in %d round trips of 64 bytes", res.Echoed, res.RoundTrips)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.P99 > res.Window {
		t.Errorf("latency p50 %v, p99 %v in a window of %v: want 0 < p50 <= p99 <= window", res.P50, res.P99, res.Window)
	}
	if res.Window < 150*time.Millisecond || res.Window > 2*time.Second {
		t.Errorf("window %v: want the 200ms between start and stop, give or take the scheduler", res.Window)
	}
}

func TestWrongEcho(t *testing.T) {
	// A server that answers line n with line n-1 of the same connection.
	var last []byte
	addr := echoServer(t, func(b []byte) []byte {
		prev := last
		last = append([]byte(nil), b...)
		if prev == nil {
			return b
		}
		return prev
	})
	res, err := measure(t, addr, 1, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Wrong == 0 || !strings.Contains(res.FirstWrong, "received") {
		t.Errorf("against a server that replays the line before: %d wrong lines (%q), want every line after the first", res.Wrong, res.FirstWrong)
	}
}

func TestServerCloses(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := measure(t, ln.Addr().String(), 3, 100*time.Millisecond); err == nil {
		t.Error("a server that closes every connection: Run succeeded, want an error")
	}
}

func TestConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Addr: "localhost:1", Conns: 1, Size: 64},
		{Addr: "[::1]:1", Conns: 1, Size: 64},
		{Addr: "127.0.0.1:1", Conns: 0, Size: 64},
		{Addr: "127.0.0.1:1", Conns: 1, Size: MinSize - 1},
	} {
		if _, err := Run(cfg, -1, func() {}); err == nil {
			t.Errorf("Run(%+v) succeeded, want an error", cfg)
		}
	}
}

func TestFill(t *testing.T) {
	a, b := make([]byte, MinSize), make([]byte, MinSize)
	fill(a, 1, 2)
	fill(b, 2, 1)
	if string(a) == string(b) || a[len(a)-1] != '\n' || strings.Count(string(a), "\n") != 1 {
		t.Errorf("lines %q and %q: want different lines of one newline each", a, b)
	}
}
