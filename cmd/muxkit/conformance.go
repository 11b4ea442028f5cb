package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/mux/fake"
)

// checked is one backend's description and conformance results.
type checked struct {
	info    mux.Info
	results []conformance.Result
}

// check describes the named backend and runs the conformance suite on it.
func check(name string) (checked, error) {
	var h conformance.Harness
	if name == fakeName {
		// The suite waits centuries of virtual time and polls descriptors
		// it never reads: it is not a loop, so the fake's horizon and
		// busy-loop detector are off.
		k := fake.New(fake.Config{Horizon: -1, BusyLoop: -1})
		h = conformance.Harness{New: func() (mux.Multiplexer, error) { return k.NewMux() }, FDs: k, Now: k.Now}
		m, err := h.New()
		if err != nil {
			return checked{}, err
		}
		h.Info = mux.Describe(m)
		m.Close()
	} else {
		info, err := backend.Describe(name)
		if err != nil {
			return checked{}, err
		}
		h = conformance.OS(func() (mux.Multiplexer, error) { return backend.Open(name) })
		h.Info = info
	}
	results, err := conformance.Check(h)
	if err != nil {
		return checked{}, err
	}
	return checked{info: h.Info, results: results}, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func maxFD(in mux.Info) string {
	if in.MaxFD > 0 {
		return fmt.Sprint(in.MaxFD - 1)
	}
	return "no limit"
}

func printInfo(w io.Writer, cs []checked) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "backend\tmax fd\tO(1) in fds\tregular files\ttimeout resolution\treports")
	for _, c := range cs {
		in := c.info
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%v\n", in.Name, maxFD(in), yesNo(in.Scales), yesNo(in.RegularFiles), in.Resolution, in.Reports)
	}
	tw.Flush()
}

// printResults prints one row per rule, one column per backend, then every
// failure; it reports whether anything failed.
func printResults(w io.Writer, cs []checked, verbose bool) bool {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "rule\twhat the conformance suite checks")
	for _, c := range cs {
		fmt.Fprintf(tw, "\t%s", c.info.Name)
	}
	fmt.Fprintln(tw)
	failed := false
	for _, rule := range conformance.Rules() {
		fmt.Fprintf(tw, "%d\t%s", rule.Rule, rule.Summary)
		for _, c := range cs {
			fmt.Fprintf(tw, "\t%s", cell(c.results, rule.Rule))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, c := range cs {
		for _, res := range c.results {
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
			fmt.Fprintf(w, "  %s %s:\n", c.info.Name, res.Name)
			for _, m := range msgs {
				fmt.Fprintf(w, "      %s\n", m)
			}
		}
	}
	return failed
}

// cell summarises one backend's checks of one rule (every rule when rule
// is negative): "pass 5/5", "FAIL 3/5", with skips counted apart.
func cell(results []conformance.Result, rule int) string {
	var pass, fail, skip int
	for _, r := range results {
		if rule >= 0 && r.Rule != rule {
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
