//go:build unix

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/muxkit/muxkit/mux/backend"
)

const demoUsage = `usage: muxkit demo [flags]

Shows what an event loop is for. Starts an HTTP server on 127.0.0.1 that
answers each request after a delay, then fetches N pages twice: one after
another with blocking calls, and all at once on one goroutine through an
event loop over the chosen backend. Prints a timeline of every request and
the two totals: the loop takes about the time of one request.

`

// demoTimeout bounds each request of the demo, so that a broken run ends.
const demoTimeout = 30 * time.Second

// runDemo is the demo subcommand.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("muxkit demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 20, "number of requests")
	delay := fs.Duration("delay", 200*time.Millisecond, "how long the server waits before each response")
	name := fs.String("backend", backend.Default(), "the backend of the event loop (one of: "+strings.Join(backend.Names(), ", ")+")")
	svgPath := fs.String("svg", "", "also write the timeline as an SVG image to this `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, demoUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "muxkit demo: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	case *n < 1 || *n > 400:
		fmt.Fprintf(stderr, "muxkit demo: -n %d: want 1 to 400 requests\n", *n)
		return 2
	case *delay < 0 || *delay > 10*time.Second:
		fmt.Fprintf(stderr, "muxkit demo: -delay %v: want 0 to 10s\n", *delay)
		return 2
	}
	m, err := backend.Open(*name)
	if err != nil {
		fmt.Fprintf(stderr, "muxkit demo: %v\n", err)
		return 2
	}
	defer m.Close()

	srv, err := startDemoServer(*delay)
	if err != nil {
		fmt.Fprintf(stderr, "muxkit demo: %v\n", err)
		return 1
	}
	defer srv.Close()
	targets := make([]target, *n)
	for i := range targets {
		u := &url.URL{Scheme: "http", Host: srv.addr.String(), Path: "/page/" + strconv.Itoa(i+1)}
		targets[i] = target{URL: u.String(), Addr: srv.addr, Request: getRequest(u)}
	}

	fmt.Fprintf(stdout, "muxkit demo: %d requests to a server on %v that answers each after %v\n\n", *n, srv.addr, *delay)
	seq := phase{
		Title: "sequential",
		How:   "one request after another, blocking calls (package net: dial, write, read to EOF)",
	}
	start := time.Now()
	for _, t := range targets {
		seq.Spans = append(seq.Spans, fetchBlocking(t, start))
	}
	seq.Total = time.Since(start)

	conc := phase{
		Title: "concurrent",
		How:   fmt.Sprintf("all at once, one goroutine, an event loop over %s", *name),
	}
	start = time.Now()
	results, err := fetchAll(m, targets, fetchOptions{ConnectTimeout: demoTimeout, Timeout: demoTimeout, MaxResponse: 1 << 20})
	conc.Total = time.Since(start)
	if err != nil {
		fmt.Fprintf(stderr, "muxkit demo: %v\n", err)
		return 1
	}
	for _, r := range results {
		s := span{Start: r.Start, End: r.End, Err: r.Err}
		if s.Err == nil {
			s.Err = checkPage(r.Response)
		}
		conc.Spans = append(conc.Spans, s)
	}

	scale := max(seq.Total, conc.Total)
	writeTimeline(stdout, scale, seq, conc)
	fmt.Fprintln(stdout)
	failed := writeTotals(stdout, *n, *delay, seq, conc)

	if *svgPath != "" {
		if err := writeSVGFile(*svgPath, scale, seq, conc); err != nil {
			fmt.Fprintf(stderr, "muxkit demo: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "timeline written to %s\n", *svgPath)
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "muxkit demo: %d request(s) failed\n", failed)
		return 1
	}
	return 0
}

// writeTotals prints the totals and their ratios, and returns how many
// requests failed.
func writeTotals(w io.Writer, n int, delay time.Duration, seq, conc phase) (failed int) {
	for _, p := range []phase{seq, conc} {
		for _, s := range p.Spans {
			if s.Err != nil {
				failed++
			}
		}
	}
	fmt.Fprintf(w, "sequential total: %v for %d requests (%v each on average)\n", roundDur(seq.Total), n, roundDur(seq.Total/time.Duration(n)))
	fmt.Fprintf(w, "concurrent total: %v for %d requests", roundDur(conc.Total), n)
	if delay > 0 {
		fmt.Fprintf(w, " (%.2f× the server's delay of %v)", float64(conc.Total)/float64(delay), delay)
	}
	fmt.Fprintln(w)
	if conc.Total > 0 {
		fmt.Fprintf(w, "speed-up: %.1f× (sequential total ÷ concurrent total)\n", float64(seq.Total)/float64(conc.Total))
	}
	if failed > 0 {
		fmt.Fprintf(w, "%d request(s) failed\n", failed)
	}
	return failed
}

func writeSVGFile(path string, scale time.Duration, phases ...phase) error {
	var b bytes.Buffer
	if err := writeSVG(&b, scale, phases...); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o666)
}

// demoServer is the demo's HTTP server.
type demoServer struct {
	addr netip.AddrPort
	srv  *http.Server
}

// startDemoServer starts an HTTP server on a free port of 127.0.0.1 that
// answers every request after delay with a short page.
func startDemoServer(delay time.Duration) (*demoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "this is %s, served after %v\n", r.URL.Path, delay)
		}),
		ReadHeaderTimeout: demoTimeout,
	}
	go srv.Serve(ln)
	return &demoServer{addr: ln.Addr().(*net.TCPAddr).AddrPort(), srv: srv}, nil
}

// Close stops the server and closes its connections.
func (s *demoServer) Close() error { return s.srv.Close() }

// fetchBlocking fetches t the plain way, blocking the goroutine in each
// call: dial, write the request, read until the server closes. The span
// is counted from start.
func fetchBlocking(t target, start time.Time) span {
	s := span{Start: time.Since(start)}
	s.Err = func() error {
		c, err := net.DialTimeout("tcp", t.Addr.String(), demoTimeout)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(demoTimeout)); err != nil {
			return err
		}
		if _, err := c.Write(t.Request); err != nil {
			return err
		}
		resp, err := io.ReadAll(c) // the request asks the server to close
		if err != nil {
			return err
		}
		return checkPage(resp)
	}()
	s.End = time.Since(start)
	return s
}

// checkPage returns an error unless resp is a 200 response.
func checkPage(resp []byte) error {
	r, err := parseResponse(resp)
	if err != nil {
		return err
	}
	if r.Code != http.StatusOK {
		return fmt.Errorf("status %s", r.Status)
	}
	return nil
}
