//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/statemachine"
)

// slowTimeout is the -timeout of the tests' batches: the slow handler
// answers only after the test ends, so its exchange fails at this
// deadline. It is short to keep the tests quick, and long enough that the
// other exchanges of the batch (at most a MiB, on loopback, which takes a
// few milliseconds) finish well within it even on a loaded machine.
const slowTimeout = time.Second

// testServer is an httptest server with one handler per kind of response
// the fetch command must handle.
type testServer struct {
	*httptest.Server
	large   []byte // the body of /large
	refused string // a URL whose port nobody listens on
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	large := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range large {
		large[i] = byte(rng.Uint32())
	}
	release := make(chan struct{}) // closed when the test ends
	mux := http.NewServeMux()
	mux.HandleFunc("/fixed", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, muxkit\n")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		// Flushing before the handler returns makes net/http send the body
		// in chunks: no Content-Length is known yet.
		for i := range 5 {
			fmt.Fprintf(w, "part %d of the chunked body\n", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/large", func(w http.ResponseWriter, r *http.Request) {
		w.Write(large)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/notfound", http.NotFound)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/malformed", func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		io.WriteString(c, "this is not HTTP\r\n\r\n")
		c.Close()
	})
	srv := httptest.NewServer(mux) // on 127.0.0.1
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets /slow return

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/refused"
	ln.Close()
	return &testServer{Server: srv, large: large, refused: refused}
}

// good are the paths whose fetch succeeds.
var good = []string{"/fixed", "/chunked", "/large", "/empty", "/notfound"}

// netHTTPGet returns what net/http's client gets for url: the status code
// and the body.
func netHTTPGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("net/http GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("net/http GET %s: reading body: %v", url, err)
	}
	return resp.StatusCode, body
}

func targetsFor(t *testing.T, urls ...string) []target {
	t.Helper()
	targets := make([]target, len(urls))
	for i, u := range urls {
		var err error
		if targets[i], err = parseTarget(context.Background(), u); err != nil {
			t.Fatalf("parseTarget(%q): %v", u, err)
		}
	}
	return targets
}

// TestFetchMatchesNetHTTP fetches every kind of response at once, on each
// backend, and compares what the loop got with what net/http's client gets
// for the same URLs; the failures must be reported on their own URLs.
func TestFetchMatchesNetHTTP(t *testing.T) {
	srv := newTestServer(t)
	var urls []string
	for _, p := range good {
		urls = append(urls, srv.URL+p)
	}
	urls = append(urls, srv.URL+"/slow", srv.URL+"/malformed", srv.refused)
	want := make(map[string][]byte)
	wantCode := make(map[string]int)
	for _, u := range urls[:len(good)] {
		wantCode[u], want[u] = netHTTPGet(t, u)
	}
	if !bytes.Equal(want[srv.URL+"/large"], srv.large) {
		t.Fatalf("net/http got %d bytes from /large; want the %d the handler wrote", len(want[srv.URL+"/large"]), len(srv.large))
	}

	for _, name := range backend.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // the subtests share the server; each waits out /slow's deadline
			m, err := backend.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			results, err := fetchAll(m, targetsFor(t, urls...), fetchOptions{
				ConnectTimeout: slowTimeout, Timeout: slowTimeout, MaxResponse: 2 << 20,
			})
			if err != nil {
				t.Fatalf("fetchAll: %v", err)
			}
			if len(results) != len(urls) {
				t.Fatalf("fetchAll returned %d results; want %d, one per URL", len(results), len(urls))
			}
			for i, u := range urls[:len(good)] {
				r := results[i]
				if r.Err != nil {
					t.Errorf("%s: failed: %v; want what net/http got (%d, %d bytes)", u, r.Err, wantCode[u], len(want[u]))
					continue
				}
				resp, err := parseResponse(r.Response)
				if err != nil {
					t.Errorf("%s: parseResponse: %v; response:\n%q", u, err, r.Response)
					continue
				}
				if resp.Code != wantCode[u] {
					t.Errorf("%s: status %q; want %d as net/http got", u, resp.Status, wantCode[u])
				}
				if !bytes.Equal(resp.Body, want[u]) {
					t.Errorf("%s: body of %d bytes differs from net/http's %d bytes (first difference at %d)",
						u, len(resp.Body), len(want[u]), firstDiff(resp.Body, want[u]))
				}
				if r.End < r.Start {
					t.Errorf("%s: ended at %v, before it started at %v", u, r.End, r.Start)
				}
			}
			failures := []struct {
				url  string
				want error
			}{
				{srv.URL + "/slow", statemachine.ErrDeadline},
				{srv.URL + "/malformed", statemachine.ErrMalformed},
				{srv.refused, syscall.ECONNREFUSED},
			}
			for i, f := range failures {
				r := results[len(good)+i]
				if !errors.Is(r.Err, f.want) {
					t.Errorf("%s: error %v; want one that is %v", f.url, r.Err, f.want)
				}
				if r.Response != nil {
					t.Errorf("%s: failed but has a response of %d bytes; want none", f.url, len(r.Response))
				}
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestFetchCommand runs the command and checks its lines: one per URL in
// the order given, with net/http's status and body size, the errors on
// their own lines, and a total.
func TestFetchCommand(t *testing.T) {
	srv := newTestServer(t)
	for _, name := range backend.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // the subtests share the server; each waits out /slow's deadline
			args := []string{"-backend", name, "-timeout", slowTimeout.String()}
			var urls []string
			for _, p := range good {
				urls = append(urls, srv.URL+p)
			}
			var out, errs bytes.Buffer
			if code := runFetch(append(args, urls...), &out, &errs); code != 0 {
				t.Fatalf("muxkit fetch %s exited %d; want 0\nstdout:\n%s\nstderr:\n%s", strings.Join(urls, " "), code, out.String(), errs.String())
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != len(urls)+2 {
				t.Fatalf("muxkit fetch printed %d lines; want a header, %d URLs and a total:\n%s", len(lines), len(urls), out.String())
			}
			total := 0
			for i, u := range urls {
				code, body := netHTTPGet(t, u)
				total += len(body)
				f := strings.Fields(lines[i+1])
				wantStatus := fmt.Sprintf("%d %s", code, http.StatusText(code))
				if len(f) < 4 || f[0] != u || !strings.Contains(lines[i+1], wantStatus) || !slices.Contains(f, fmt.Sprint(len(body))) {
					t.Errorf("line %d is %q; want %s, %q and size %d as net/http got", i+2, lines[i+1], u, wantStatus, len(body))
				}
			}
			last := lines[len(lines)-1]
			for _, want := range []string{"total:", fmt.Sprintf("%d URLs", len(urls)), "0 failed", fmt.Sprintf("%d body bytes", total), name} {
				if !strings.Contains(last, want) {
					t.Errorf("total line %q lacks %q", last, want)
				}
			}

			// The failures, among good URLs: each on its own line, the
			// others still fetched, exit status 1.
			urls = []string{srv.refused, srv.URL + "/fixed", srv.URL + "/malformed", srv.URL + "/slow", srv.URL + "/chunked"}
			out.Reset()
			errs.Reset()
			if code := runFetch(append(args[:2:2], append([]string{"-timeout", slowTimeout.String()}, urls...)...), &out, &errs); code != 1 {
				t.Errorf("muxkit fetch with failing URLs exited %d; want 1\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
			}
			lines = strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != len(urls)+2 {
				t.Fatalf("muxkit fetch printed %d lines; want a header, %d URLs and a total:\n%s", len(lines), len(urls), out.String())
			}
			for i, want := range []string{"connection refused", "200 OK", "malformed", "deadline exceeded", "200 OK"} {
				if l := lines[i+1]; !strings.HasPrefix(l, urls[i]+" ") || !strings.Contains(l, want) {
					t.Errorf("line %d is %q; want %s and %q", i+2, l, urls[i], want)
				}
			}
			if last := lines[len(lines)-1]; !strings.Contains(last, "2 ok, 3 failed") {
				t.Errorf("total line %q; want 2 ok, 3 failed", last)
			}
		})
	}
}

func TestFetchUsageErrors(t *testing.T) {
	// Past 1 TiB -max is refused as more than a response held in memory
	// should be; where int has 32 bits the flag package refuses it first.
	huge, pastLimit := []string{"-max", "at most", "in memory"}, []string{"-max", "at most"}
	if strconv.IntSize == 32 {
		huge, pastLimit = []string{"-max", "out of range"}, []string{"-max", "out of range"}
	}
	for _, tc := range []struct {
		args []string
		want []string // in the message
	}{
		{nil, []string{"no URL", "usage:"}},
		{[]string{"-bogus", "http://127.0.0.1/"}, []string{"-bogus", "usage:"}},
		{[]string{"https://127.0.0.1/"}, []string{"bad URL", "https", "only http"}},
		{[]string{"http://127.0.0.1/", "http://example.com/"}, []string{"bad URL", "example.com", "IP addresses and localhost"}},
		{[]string{"not a url"}, []string{"bad URL", "not a url"}},
		{[]string{"-backend", "kqueue9", "http://127.0.0.1/"}, append([]string{"kqueue9"}, backend.Names()...)},
		{[]string{"-timeout", "0s", "http://127.0.0.1/"}, []string{"-timeout"}},
		{[]string{"-max", "-1", "http://127.0.0.1/"}, []string{"-max"}},
		{[]string{"-max", "9223372036854775807", "http://127.0.0.1/"}, huge},
		{[]string{"-max", "1099511627777", "http://127.0.0.1/"}, pastLimit},
		{[]string{"-max", "99999999999999999999", "http://127.0.0.1/"}, []string{"-max", "out of range"}},
	} {
		var out, errs bytes.Buffer
		if code := runFetch(tc.args, &out, &errs); code != 2 {
			t.Errorf("muxkit fetch %q exited %d; want 2", tc.args, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs.String(), w) {
				t.Errorf("muxkit fetch %q said %q; want it to mention %q", tc.args, errs.String(), w)
			}
		}
		if out.Len() > 0 {
			t.Errorf("muxkit fetch %q printed %q on stdout; want nothing", tc.args, out.String())
		}
	}
}

// TestFetchHugeLimit: the largest limit an int can hold is a limit like
// any other to the machines under the command (it once overflowed into a
// negative read size, and the loop panicked).
func TestFetchHugeLimit(t *testing.T) {
	srv := newTestServer(t)
	m, err := backend.OpenDefault()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	u := srv.URL + "/large"
	results, err := fetchAll(m, targetsFor(t, u), fetchOptions{ConnectTimeout: slowTimeout, Timeout: slowTimeout, MaxResponse: math.MaxInt})
	if err != nil {
		t.Fatalf("fetchAll: %v", err)
	}
	if r := results[0]; r.Err != nil {
		t.Fatalf("%s with MaxResponse math.MaxInt: %v; want the response", u, r.Err)
	}
	resp, err := parseResponse(results[0].Response)
	if err != nil || !bytes.Equal(resp.Body, srv.large) {
		t.Errorf("%s with MaxResponse math.MaxInt: body of %d bytes (err %v); want the %d bytes served", u, len(resp.Body), err, len(srv.large))
	}
}
