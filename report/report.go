//go:build unix

package report

import (
	"fmt"
	"io"
	"time"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/measure"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
)

// FakeName is the name under which a report shows package mux/fake, after
// the registered backends.
const FakeName = "fake"

// Names returns what a report covers unless told otherwise: every
// registered backend, then FakeName.
func Names() []string { return append(backend.Names(), FakeName) }

// Budget says how much a report measures.
type Budget struct {
	Name     string        // shown in the report, such as "quick"
	Ns       []int         // numbers of idle descriptors of the Wait scenario
	Rounds   int           // rounds of measure.Compare
	Chunk    time.Duration // time of one chunk of measure.Compare
	Timeouts []Sample      // Wait timeouts to sample
}

// Sample is a timeout and how many Waits of it to time.
type Sample struct {
	Timeout time.Duration
	Waits   int
}

var (
	// Quick is the budget of Main by default: about 15 seconds for the
	// backends of a 2-core Linux machine, conformance suite included.
	Quick = Budget{
		Name:   "quick",
		Ns:     []int{1, 10, 100, 1000, 10000},
		Rounds: 15,
		Chunk:  2 * time.Millisecond,
		Timeouts: []Sample{
			{100 * time.Microsecond, 500},
			{time.Millisecond, 200},
			{10 * time.Millisecond, 50},
		},
	}
	// Long is the budget of Main with -long: about five times as many
	// samples.
	Long = Budget{
		Name:   "long",
		Ns:     []int{1, 10, 100, 1000, 10000},
		Rounds: 61,
		Chunk:  5 * time.Millisecond,
		Timeouts: []Sample{
			{100 * time.Microsecond, 3000},
			{time.Millisecond, 1000},
			{10 * time.Millisecond, 200},
		},
	}
)

// Report is what Run found out: one Row per backend, in the order asked
// for, and the References its timeouts are compared with.
type Report struct {
	Budget     Budget
	Rows       []Row
	References []Reference
}

// Row is what a report found out about one backend.
type Row struct {
	Name     string
	Info     mux.Info             // what the backend says it is and can do
	Results  []conformance.Result // the conformance suite, check by check
	HasRaw   bool                 // it has a raw loop: its Costs have ratios
	Virtual  bool                 // the fake: virtual descriptors, virtual clock
	Wait     []Cost               // one per Budget.Ns
	PingPong Cost                 // not measured for the fake
	Read     Cost                 // the fake only: its Read of measure.Chunk bytes against read(2)
	Write    Cost                 // the fake only: its Write of measure.Chunk bytes against write(2)
	Timeouts []measure.Stats      // one per Budget.Timeouts; nil for the fake
	Err      error                // why it could not be checked (Results is nil), or the first measurement that failed
}

// unchecked reports whether the backend of row could not be checked at
// all: described, opened or given the suite.
func (row *Row) unchecked() bool { return row.Err != nil && row.Results == nil }

// Cost is one comparison of a backend with its raw loop: the median times
// of one operation and their ratio (0 without a raw loop), or why there is
// none.
type Cost struct {
	measure.Comparison
	NA  string // why it was not measured, or ""
	Err error  // the measurement failed
}

// Reference is a row of the timeout table that is not a backend.
type Reference struct {
	Label string
	Stats []measure.Stats // one per Budget.Timeouts
	Err   error
}

// Failed reports whether a backend failed a conformance check or a
// measurement failed.
func (r *Report) Failed() bool {
	for _, row := range r.Rows {
		if row.Err != nil {
			return true
		}
		for _, res := range row.Results {
			if res.Status == conformance.Fail {
				return true
			}
		}
	}
	for _, ref := range r.References {
		if ref.Err != nil {
			return true
		}
	}
	return false
}

// Run checks and measures the named backends — registered ones, or
// FakeName — with budget bud, saying what it does on progress (nil for
// silence). A name that is not registered is an error wrapping
// [backend.ErrUnknown]. Anything else that fails is part of the Report
// (see Failed): a failed check or measurement, and a backend that cannot
// be described, opened or given the suite, whose Row has only its Name
// and Err, while the other backends are checked and measured as usual.
func Run(names []string, bud Budget, progress io.Writer) (*Report, error) {
	for _, name := range names {
		if name == FakeName {
			continue
		}
		if _, err := backend.Lookup(name); err != nil {
			return nil, fmt.Errorf("%w (or %s)", err, FakeName)
		}
	}
	prog := newProgress(progress)
	defer prog.done()
	r := &Report{Budget: bud}
	real := false
	for _, name := range names {
		prog.phase("checking " + name)
		row, err := check(name)
		if err != nil {
			row = Row{Name: name, Info: mux.Info{Name: name}, Err: fmt.Errorf("%s: %w", name, err)}
			prog.note(fmt.Sprintf("checking %v", row.Err))
			r.Rows = append(r.Rows, row)
			continue
		}
		prog.phase("measuring " + name)
		measureRow(&row, bud, prog.step)
		if row.Err != nil {
			prog.note(fmt.Sprintf("measuring %s: %v", name, row.Err))
		}
		r.Rows = append(r.Rows, row)
		real = real || !row.Virtual
	}
	if real {
		prog.phase("measuring references")
		r.References = measureReferences(bud, prog.step)
		for _, ref := range r.References {
			if ref.Err != nil {
				prog.note(fmt.Sprintf("measuring %s: %v", ref.Label, ref.Err))
			}
		}
	}
	return r, nil
}
