//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muxkit/muxkit/mux/backend"
)

const fetchUsage = `usage: muxkit fetch [flags] URL...

Fetches the URLs concurrently, on one goroutine: an event loop over the
chosen backend runs one statemachine.Client per URL. Only http URLs whose
host is an IP address or localhost are supported. Prints, in the order
given, each URL's status, body size and time, then the total.

The exit status is 0 when every URL was fetched (whatever its HTTP status),
1 when one failed (refused, timed out, malformed response), and 2 for a bad
flag, URL or backend name.

`

// maxResponseLimit is the largest -max the command takes: it holds each
// whole response in memory, and a limit beyond any machine's memory is a
// mistake to report, not a limit to keep. It is 1 TiB, or less where an
// int holds less.
const maxResponseLimit = min(1<<40, math.MaxInt)

// fetchOptions are the limits of each exchange.
type fetchOptions struct {
	ConnectTimeout time.Duration // bounds the connect
	Timeout        time.Duration // bounds the whole exchange
	MaxResponse    int           // most bytes of a response, head included
}

// runFetch is the fetch subcommand.
func runFetch(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("muxkit fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("backend", backend.Default(), "the backend of the event loop (one of: "+strings.Join(backend.Names(), ", ")+")")
	var opt fetchOptions
	fs.DurationVar(&opt.Timeout, "timeout", 10*time.Second, "time limit of each exchange, connect included")
	fs.DurationVar(&opt.ConnectTimeout, "connect-timeout", 5*time.Second, "time limit of each connect")
	fs.IntVar(&opt.MaxResponse, "max", 64<<20, "most bytes of each response, head included (at most 1 TiB)")
	fs.Usage = func() {
		fmt.Fprint(stderr, fetchUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() == 0:
		fmt.Fprintln(stderr, "muxkit fetch: no URL given")
		fs.Usage()
		return 2
	case opt.Timeout <= 0 || opt.ConnectTimeout <= 0:
		fmt.Fprintln(stderr, "muxkit fetch: -timeout and -connect-timeout must be positive")
		return 2
	case opt.MaxResponse <= 0:
		fmt.Fprintln(stderr, "muxkit fetch: -max must be positive")
		return 2
	case opt.MaxResponse > maxResponseLimit:
		fmt.Fprintf(stderr, "muxkit fetch: -max %d: want at most %d: each response is held whole in memory\n", opt.MaxResponse, maxResponseLimit)
		return 2
	}
	targets := make([]target, fs.NArg())
	for i, raw := range fs.Args() {
		t, err := parseTarget(context.Background(), raw)
		if err != nil {
			fmt.Fprintf(stderr, "muxkit fetch: bad URL: %v\n", err)
			return 2
		}
		targets[i] = t
	}
	m, err := backend.Open(*name)
	if err != nil {
		fmt.Fprintf(stderr, "muxkit fetch: %v\n", err)
		return 2
	}
	defer m.Close()

	start := time.Now()
	results, err := fetchAll(m, targets, opt)
	total := time.Since(start)
	if err != nil {
		fmt.Fprintf(stderr, "muxkit fetch: %v\n", err)
		return 1
	}
	if printFetch(stdout, targets, results, total, *name) > 0 {
		return 1
	}
	return 0
}

// printFetch prints one line per URL and a total line, and returns how
// many URLs failed.
func printFetch(w io.Writer, targets []target, results []fetchResult, total time.Duration, backendName string) (failed int) {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "URL\tSTATUS\tBYTES\tTIME\t")
	var size int // of all bodies
	for i, r := range results {
		status, n, why := "failed", "-", ""
		err := r.Err
		if err == nil {
			var resp httpResponse
			if resp, err = parseResponse(r.Response); err == nil {
				status, n = resp.Status, fmt.Sprint(len(resp.Body))
				size += len(resp.Body)
			}
		}
		if err != nil {
			failed++
			why = "error: " + err.Error()
		}
		// The error is the last cell, which does not widen a column.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", targets[i].URL, status, n, roundDur(r.End-r.Start), why)
	}
	tw.Flush()
	for line := range strings.Lines(table.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
	fmt.Fprintf(w, "total: %d URLs, %d ok, %d failed, %d body bytes in %v (one goroutine, %s)\n",
		len(results), len(results)-failed, failed, size, roundDur(total), backendName)
	return failed
}
