// Command muxkit prints, for each backend available on this machine (and
// for the fake of package mux/fake), what it is and can do (its mux.Info)
// and its results on the conformance suite, rule by rule.
//
// Usage:
//
//	muxkit [-backend name] [-v]
//
// The exit status is 0 when every backend passes, 1 when one fails a
// check, and 2 for a bad flag or backend name.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/mux/fake/fakeconformance"
)

// fakeName is the column of the fake, which package backend does not open
// (its descriptors are not the OS's).
const fakeName = "fake"

// names returns every backend the command can check.
func names() []string { return append(backend.Names(), fakeName) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// report is one backend's description and conformance results.
type report struct {
	info    mux.Info
	results []conformance.Result
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("muxkit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("backend", "", "check only this backend (one of: "+strings.Join(names(), ", ")+")")
	verbose := fs.Bool("v", false, "print every failure message in full")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: muxkit [-backend name] [-v]\n\n"+
			"Prints each backend's self-description and its conformance results.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "muxkit: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	todo := names()
	if *only != "" {
		if _, err := backend.Describe(*only); err != nil && *only != fakeName {
			fmt.Fprintf(stderr, "muxkit: %v (or %s)\n", err, fakeName)
			return 2
		}
		todo = []string{*only}
	}

	var reports []report
	for _, name := range todo {
		fmt.Fprintf(stderr, "checking %s…\n", name)
		r, err := check(name)
		if err != nil {
			fmt.Fprintf(stderr, "muxkit: %s: %v\n", name, err)
			return 1
		}
		reports = append(reports, r)
	}
	fmt.Fprintf(stdout, "muxkit: %d backend(s) on %s/%s\n\n", len(reports), runtime.GOOS, runtime.GOARCH)
	printInfo(stdout, reports)
	fmt.Fprintln(stdout)
	failed := printResults(stdout, reports, *verbose)
	if failed {
		return 1
	}
	return 0
}

func check(name string) (report, error) {
	var h conformance.Harness
	if name == fakeName {
		h = fakeconformance.Harness(fake.Config{})
		m, err := h.New()
		if err != nil {
			return report{}, err
		}
		h.Info = mux.Describe(m)
		m.Close()
	} else {
		info, err := backend.Describe(name)
		if err != nil {
			return report{}, err
		}
		h = conformance.OS(func() (mux.Multiplexer, error) { return backend.Open(name) })
		h.Info = info
	}
	results, err := conformance.Check(h)
	if err != nil {
		return report{}, err
	}
	return report{info: h.Info, results: results}, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func printInfo(w io.Writer, reports []report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "backend\tmax fd\tO(1) in fds\tregular files\ttimeout resolution\treports")
	for _, r := range reports {
		in := r.info
		maxFD := "no limit"
		if in.MaxFD > 0 {
			maxFD = fmt.Sprint(in.MaxFD - 1)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%v\n", in.Name, maxFD, yesNo(in.Scales), yesNo(in.RegularFiles), in.Resolution, in.Reports)
	}
	tw.Flush()
}

// printResults prints one row per rule, one column per backend, then every
// failure; it reports whether anything failed.
func printResults(w io.Writer, reports []report, verbose bool) bool {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "rule\twhat the conformance suite checks")
	for _, r := range reports {
		fmt.Fprintf(tw, "\t%s", r.info.Name)
	}
	fmt.Fprintln(tw)
	failed := false
	for _, rule := range conformance.Rules() {
		fmt.Fprintf(tw, "%d\t%s", rule.Rule, rule.Summary)
		for _, r := range reports {
			fmt.Fprintf(tw, "\t%s", cell(r.results, rule.Rule))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, r := range reports {
		for _, res := range r.results {
			if res.Status != conformance.Fail {
				continue
			}
			if !failed {
				fmt.Fprintln(w, "\nfailures:")
			}
			failed = true
			msgs := res.Messages
			if !verbose && len(msgs) > 1 {
				msgs = append(msgs[:1:1], fmt.Sprintf("(%d more; -v shows them)", len(res.Messages)-1))
			}
			fmt.Fprintf(w, "  %s %s:\n", r.info.Name, res.Name)
			for _, m := range msgs {
				fmt.Fprintf(w, "      %s\n", m)
			}
		}
	}
	return failed
}

// cell summarises one backend's checks of one rule: "pass 5/5",
// "FAIL 3/5", with skips counted apart.
func cell(results []conformance.Result, rule int) string {
	var pass, fail, skip int
	for _, r := range results {
		if r.Rule != rule {
			continue
		}
		switch r.Status {
		case conformance.Pass:
			pass++
		case conformance.Fail:
			fail++
		case conformance.Skip:
			skip++
		}
	}
	total := pass + fail
	s := fmt.Sprintf("pass %d/%d", pass, total)
	if fail > 0 {
		s = fmt.Sprintf("FAIL %d/%d", pass, total)
	}
	if total == 0 && skip > 0 {
		s = "n/a"
	}
	if skip > 0 && total > 0 {
		s += fmt.Sprintf(" (+%d n/a)", skip)
	}
	return s
}
