package fake_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

var (
	_ net.Conn     = (*fake.Conn)(nil)
	_ net.Listener = (*fake.Listener)(nil)
)

// TestConnBufio: bufio code, in its own goroutine, is the peer of a loop
// end.
func TestConnBufio(t *testing.T) {
	k := fake.New(fake.Config{})
	m := mustMux(t, k)
	a, b := mustPair(t, k)
	c, err := k.Conn(b)
	if err != nil {
		t.Fatalf("Conn(%d) = %v", b, err)
	}
	done := make(chan error, 1)
	go func() {
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				done <- err
				return
			}
			if _, err := fmt.Fprintf(c, "%d\n", len(line)-1); err != nil {
				done <- err
				return
			}
		}
	}()
	mustAdd(t, m, a, mux.Readable)
	for _, q := range []string{"hello", "event loops"} {
		k.Write(a, []byte(q+"\n"))
		if got := waitFor(t, m, a, -1); got != mux.Readable {
			t.Fatalf("Wait(-1) for the answer = %v; want Readable", got)
		}
		if got, want := readAll(k, a), fmt.Sprintf("%d\n", len(q)); got != want {
			t.Fatalf("answer to %q = %q; want %q", q, got, want)
		}
	}
	k.Shutdown(a, fake.ShutWrite)
	if err := <-done; err != io.EOF {
		t.Fatalf("peer's ReadString after the loop shut down = %v; want io.EOF", err)
	}
	if got := waitFor(t, m, a, -1); !got.Has(mux.Readable | mux.Hangup) {
		t.Fatalf("after the peer's Close: %v; want Readable|Hangup", got)
	}
}

func TestConnDeadline(t *testing.T) {
	k := fake.New(fake.Config{})
	_, b := mustPair(t, k)
	c, _ := k.Conn(b)
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past its deadline = %v; want os.ErrDeadlineExceeded", err)
	}
	c.SetReadDeadline(time.Now().Add(time.Second)) // a second of the kernel's clock
	got := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		got <- err
	}()
	k.Advance(999 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("Read returned %v before its deadline on the kernel's clock", err)
	case <-time.After(20 * time.Millisecond):
	}
	k.Advance(time.Millisecond)
	err := <-got
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read at its deadline = %v; want a net.Error whose Timeout() is true", err)
	}
	go func() {
		c.SetReadDeadline(time.Time{})
		_, err := c.Read(make([]byte, 1))
		got <- err
	}()
	time.Sleep(10 * time.Millisecond)
	c.Close()
	if err := <-got; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read blocked when the Conn was closed = %v; want net.ErrClosed", err)
	}
}

// TestHTTPServer: a net/http server on the fake's Listener answers a
// request from a loop under test, the loop package with a statemachine
// Client, and does so deterministically: with Config.Settle inside a
// synctest bubble, every run has the same trace.
func TestHTTPServer(t *testing.T) {
	var first uint64
	for run := range 10 {
		var hash uint64
		var resp string
		synctest.Test(t, func(t *testing.T) {
			hash, resp = httpExchange(t)
		})
		if !strings.HasPrefix(resp, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(resp, "\r\n\r\nhello, /path") {
			t.Fatalf("run %d: response %q; want 200 OK with the body \"hello, /path\"", run, resp)
		}
		if run == 0 {
			first = hash
		} else if hash != first {
			t.Fatalf("run %d: TraceHash %#x; want %#x as in run 0", run, hash, first)
		}
	}
}

func httpExchange(t *testing.T) (uint64, string) {
	k := fake.New(fake.Config{Seed: 1, Settle: synctest.Wait, Delay: time.Millisecond})
	lfd, err := k.Listen("web:80")
	if err != nil {
		t.Fatalf("Listen = %v", err)
	}
	ln, err := k.Listener(lfd)
	if err != nil {
		t.Fatalf("Listener = %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello, ", r.URL.Path)
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	m, err := k.NewMux()
	if err != nil {
		t.Fatalf("NewMux = %v", err)
	}
	defer m.Close()
	l, err := loop.New(loop.Config{Mux: m, Sys: k})
	if err != nil {
		t.Fatalf("loop.New = %v", err)
	}
	var resp string
	l.Dial("web:80", func(now time.Time) loop.Task {
		c := statemachine.NewClient(statemachine.ClientConfig{
			Request: []byte("GET /path HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n"),
			Framing: statemachine.HTTPResponse{Method: "GET"},
			Timeout: 5 * time.Second,
		}, now)
		return &c
	}, func(r loop.Result) {
		if r.Err != nil {
			t.Errorf("exchange failed: %v", r.Err)
		}
		resp = string(r.Task.(*statemachine.Client).Response())
		l.Stop()
	})
	if err := l.Run(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	srv.Close()
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve = %v; want http.ErrServerClosed", err)
	}
	if err := k.BusyLoop(); err != nil {
		t.Errorf("BusyLoop() = %v; want nil", err)
	}
	return k.TraceHash(), resp
}
