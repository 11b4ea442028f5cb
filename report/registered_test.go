//go:build unix

package report

import (
	"bytes"
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
// test-raw with a raw loop of its own (poll's), test-noraw without one.
func init() {
	pollRaw, _ := backend.Lookup("poll")
	backend.Register(backend.Backend{Name: "test-raw", Open: openPlain, Info: info("test-raw"), Raw: pollRaw.Raw})
	backend.Register(backend.Backend{Name: "test-noraw", Open: openPlain, Info: info("test-noraw")})
}

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
