//go:build unix

package report

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/mux/poll"
)

// plain is a backend as another module would write one, here simply poll
// with only the methods of mux.Multiplexer, so that its registered Info is
// what describes it.
type plain struct{ mux.Multiplexer }

func openPlain() (mux.Multiplexer, error) {
	m, err := poll.New()
	if err != nil {
		return nil, err
	}
	return plain{m}, nil
}

// info is poll's Info under another name.
func info(name string) mux.Info {
	in, err := backend.Describe("poll")
	if err != nil {
		panic(err) // poll is registered on every system this builds for
	}
	in.Name = name
	return in
}

// Registered as the package of a backend in another module registers it:
// test-raw with a raw loop of its own (poll's), test-noraw without one,
// and two that cannot run here: test-noopen, described by its Info but
// failing to open, and test-nodescribe, with no Info and failing to open.
func init() {
	pollRaw, _ := backend.Lookup("poll")
	backend.Register(backend.Backend{Name: "test-raw", Open: openPlain, Info: info("test-raw"), Raw: pollRaw.Raw})
	backend.Register(backend.Backend{Name: "test-noraw", Open: openPlain, Info: info("test-noraw")})
	backend.Register(backend.Backend{Name: "test-noopen", Open: openFails, Info: info("test-noopen")})
	backend.Register(backend.Backend{Name: "test-nodescribe", Open: openFails})
}

// errNoFacility is what a backend says when the system lacks what it needs.
var errNoFacility = errors.New("this kernel has no such facility")

func openFails() (mux.Multiplexer, error) { return nil, errNoFacility }

// TestRegisteredRaw: a backend registered with a raw loop is in the
// report, checked and priced against its raw loop.
func TestRegisteredRaw(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	r, err := Run([]string{"test-raw"}, tiny, nil)
	if err != nil {
		t.Fatalf("Run(test-raw) = %v", err)
	}
	if r.Failed() || len(r.Rows) != 1 {
		t.Fatalf("Run(test-raw) = %+v; want one row, nothing failed", r)
	}
	row := r.Rows[0]
	if row.Name != "test-raw" || row.Info.Name != "test-raw" || !row.HasRaw || len(row.Results) == 0 {
		t.Errorf("row = %+v; want test-raw, described by its registered Info, with conformance results and a raw loop", row)
	}
	for i, c := range append(row.Wait, row.PingPong) {
		if c.Err != nil || c.Mux <= 0 || c.Raw <= 0 || c.Ratio <= 0 {
			t.Errorf("cost #%d of test-raw = %+v; want times of both sides and their ratio", i, c)
		}
	}
}

// TestRegisteredNoRaw: a backend registered without a raw loop is in the
// report, measured alone: its ratios are n/a, its timeouts are timed, and
// the command exits 0.
func TestRegisteredNoRaw(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	useBudget(t, tiny)

	var out, errs bytes.Buffer
	if code := Main([]string{"-backend", "test-noraw"}, &out, &errs); code != 0 {
		t.Fatalf("muxkit -backend test-noraw exited %d; want 0 (no raw loop is no failure)\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	got := out.String()
	cells := tableRow(t, got, "Wait cost:", "test-noraw")
	if len(cells) != 1+len(tiny.Ns) {
		t.Fatalf("Wait cost row %q; want the name and one cell per N", cells)
	}
	for _, c := range cells[1:] {
		if !regexp.MustCompile(`^[0-9.]+(ns|µs|ms) ×n/a$`).MatchString(c) {
			t.Errorf("Wait cost cell %q of test-noraw; want its time and ×n/a", c)
		}
	}
	if !strings.Contains(got, "test-noraw: registered without a raw loop") {
		t.Errorf("the report does not say why test-noraw has no ratio:\n%s", got)
	}
	for _, c := range tableRow(t, got, "Timeout precision:", "test-noraw")[1:] {
		if !regexp.MustCompile(`^[0-9.]+(µs|ms) / [0-9.]+(µs|ms)$`).MatchString(c) {
			t.Errorf("timeout cell %q of test-noraw; want \"median / p99\" (its clock is real)", c)
		}
	}
}

// TestUncheckedBackend: a backend that cannot be opened or described is a
// row of the report saying so, not the end of the report: the backends
// after it are checked and measured, every table has its row, the
// failures name it with its error, and the report counts as failed.
func TestUncheckedBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	r, err := Run([]string{"test-noopen", "test-nodescribe", "test-noraw"}, tiny, nil)
	if err != nil {
		t.Fatalf("Run = %v; want a report with the failing backends' rows marked", err)
	}
	if len(r.Rows) != 3 {
		t.Fatalf("Run gave %d rows; want 3, one per name", len(r.Rows))
	}
	for _, row := range r.Rows[:2] {
		if !errors.Is(row.Err, errNoFacility) || row.Results != nil || !strings.Contains(row.Err.Error(), row.Name) {
			t.Errorf("row %s: Err %v, %d results; want the Open error, naming the backend, and no results", row.Name, row.Err, len(row.Results))
		}
	}
	if ok := r.Rows[2]; ok.Err != nil || len(ok.Results) == 0 || len(ok.Wait) != len(tiny.Ns) {
		t.Errorf("row test-noraw = %+v; want it checked and measured after the failing ones", ok)
	}
	if !r.Failed() {
		t.Error("Failed() = false; want true when a backend could not be checked")
	}

	var out bytes.Buffer
	if err := r.WriteText(&out, false); err != nil {
		t.Fatalf("WriteText = %v", err)
	}
	got := out.String()
	for _, name := range []string{"test-noopen", "test-nodescribe"} {
		if c := tableRow(t, got, "Wait cost:", name); len(c) != 1+len(tiny.Ns) || c[1] != "error" {
			t.Errorf("Wait cost row of %s = %q; want one \"error\" cell per N", name, c)
		}
		if c := tableRow(t, got, "Choosing a backend", name); len(c) < 2 || c[1] != "error" {
			t.Errorf("summary row of %s = %q; want its conformance cell to be \"error\"", name, c)
		}
		if !strings.Contains(got, name+" could not be checked:\n      "+name+": "+errNoFacility.Error()) {
			t.Errorf("the failures do not give %s's error:\n%s", name, got)
		}
	}
	if c := tableRow(t, got, "Wait cost:", "test-noraw"); len(c) != 1+len(tiny.Ns) || c[1] == "error" {
		t.Errorf("Wait cost row of test-noraw = %q; want it measured", c)
	}
}
