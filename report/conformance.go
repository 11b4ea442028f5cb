//go:build unix

package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/mux/fake"
)

// check describes the named backend and runs the conformance suite on it.
func check(name string) (Row, error) {
	var h conformance.Harness
	if name == FakeName {
		// The suite waits centuries of virtual time and polls descriptors
		// it never reads: it is not a loop, so the fake's horizon and
		// busy-loop detector are off.
		k := fake.New(fake.Config{Horizon: -1, BusyLoop: -1})
		h = conformance.Harness{New: func() (mux.Multiplexer, error) { return k.NewMux() }, FDs: k, Now: k.Now}
		m, err := h.New()
		if err != nil {
			return Row{}, err
		}
		h.Info = mux.Describe(m)
		m.Close()
	} else {
		info, err := backend.Describe(name)
		if err != nil {
			return Row{}, err
		}
		// One Open first: a backend that cannot open is one error, not a
		// failure of every check.
		m, err := backend.Open(name)
		if err != nil {
			return Row{}, err
		}
		m.Close()
		h = conformance.OS(func() (mux.Multiplexer, error) { return backend.Open(name) })
		h.Info = info
	}
	results, err := conformance.Check(h)
	if err != nil {
		return Row{}, err
	}
	return Row{Name: name, Info: h.Info, Results: results, Virtual: name == FakeName}, nil
}

// infoHeader heads the capabilities table; infoCells are the cells of one
// row. The README's table of backends is made of the same (see
// TestREADMEBackends).
var infoHeader = []string{"backend", "max fd", "O(1) in fds", "regular files", "timeout resolution", "reports", "modes"}

func infoCells(in mux.Info) []string {
	scales, files := "no", "no (ErrInvalid)"
	if in.Scales {
		scales = "yes"
	}
	if in.RegularFiles {
		files = "yes, always ready"
	}
	modes := "none"
	if in.Modes != 0 {
		modes = strings.ReplaceAll(in.Modes.String(), "|", ", ")
	}
	return []string{in.Name, maxFD(in), scales, files, in.Resolution.String(), strings.ReplaceAll(in.Reports.String(), "|", ", "), modes}
}

func maxFD(in mux.Info) string {
	if in.MaxFD > 0 {
		return fmt.Sprint(in.MaxFD - 1)
	}
	return "no limit"
}

func printInfo(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(infoHeader, "\t"))
	for _, row := range rows {
		if row.unchecked() {
			fmt.Fprintf(tw, "%s\tnot described: see the failures below\n", row.Name)
			continue
		}
		fmt.Fprintln(tw, strings.Join(infoCells(row.Info), "\t"))
	}
	tw.Flush()
}

// printResults prints one row per rule, one column per backend, then every
// failure.
func printResults(w io.Writer, rows []Row, verbose bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "rule\twhat the conformance suite checks")
	for _, row := range rows {
		fmt.Fprintf(tw, "\t%s", row.Name)
	}
	fmt.Fprintln(tw)
	for _, rule := range conformance.Rules() {
		fmt.Fprintf(tw, "%d\t%s", rule.Rule, rule.Summary)
		for _, row := range rows {
			fmt.Fprintf(tw, "\t%s", resultCell(row, rule.Rule))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	failed := false
	for _, row := range rows {
		if row.unchecked() {
			if !failed {
				fmt.Fprintln(w, "\nfailures:")
			}
			failed = true
			fmt.Fprintf(w, "  %s could not be checked:\n      %v\n", row.Name, row.Err)
			continue
		}
		for _, res := range row.Results {
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
			fmt.Fprintf(w, "  %s %s:\n", row.Name, res.Name)
			for _, m := range msgs {
				fmt.Fprintf(w, "      %s\n", m)
			}
		}
	}
}

// resultCell is cell of row's results, or "error" if its backend could
// not be checked.
func resultCell(row Row, rule int) string {
	if row.unchecked() {
		return "error"
	}
	return cell(row.Results, rule)
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
