//go:build unix

package report_test

import (
	"fmt"
	"os"
	"time"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/report"
)

// The whole report as a command: this is cmd/muxkit's main, and the main
// of a module that registers a backend of its own (import its package
// for its side effect, and the report has it in).
func Example() {
	os.Exit(report.Main(os.Args[1:], os.Stdout, os.Stderr))
}

// A report of the fake alone, with a small budget, read as values: its
// conformance results and what it says of itself are the same on every
// run; its costs (r.Rows[0].Wait) are measured.
func ExampleRun() {
	bud := report.Budget{Name: "tiny", Ns: []int{1, 100}, Rounds: 1, Chunk: time.Millisecond}
	r, err := report.Run([]string{report.FakeName}, bud, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	row := r.Rows[0]
	passed := 0
	for _, res := range row.Results {
		if res.Status == conformance.Pass {
			passed++
		}
	}
	fmt.Printf("%s: virtual %v, passes %d of %d checks, %d Wait costs\n",
		row.Name, row.Virtual, passed, len(row.Results), len(row.Wait))
	// Output:
	// fake: virtual true, passes 60 of 60 checks, 2 Wait costs
}
