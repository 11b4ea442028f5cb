//go:build linux

package epollwait_test

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/report"

	"example.com/outsidebackend/epollwait"
)

// TestRegistered: importing the package registers the backend, after
// muxkit's own, and by-name opening and MUXKIT_BACKEND find it.
func TestRegistered(t *testing.T) {
	names := backend.Names()
	if i := slices.Index(names, epollwait.Name); i < 0 || i != len(names)-1 {
		t.Fatalf("backend.Names() = %v; want %q registered, after muxkit's backends", names, epollwait.Name)
	}
	t.Setenv(backend.EnvVar, epollwait.Name)
	m, err := backend.OpenDefault()
	if err != nil {
		t.Fatalf("OpenDefault() with %s=%s = %v", backend.EnvVar, epollwait.Name, err)
	}
	defer m.Close()
	if _, ok := m.(*epollwait.Mux); !ok || mux.Describe(m).Name != epollwait.Name {
		t.Errorf("OpenDefault() with %s=%s opened %T describing itself as %q; want an *epollwait.Mux", backend.EnvVar, epollwait.Name, m, mux.Describe(m).Name)
	}
}

// TestReport: the report built in this module shows the backend, passing
// every conformance check, with its Wait priced against its own raw loop:
// a ratio, not n/a.
func TestReport(t *testing.T) {
	bud := report.Budget{
		Name:     "test",
		Ns:       []int{1, 100},
		Rounds:   3,
		Chunk:    200 * time.Microsecond,
		Timeouts: []report.Sample{{Timeout: time.Millisecond, Waits: 5}},
	}
	r, err := report.Run([]string{epollwait.Name}, bud, nil)
	if err != nil {
		t.Fatalf("report.Run(%s) = %v", epollwait.Name, err)
	}
	if r.Failed() {
		var out bytes.Buffer
		r.WriteText(&out, true)
		t.Fatalf("the report of %s failed:\n%s", epollwait.Name, out.String())
	}
	row := r.Rows[0]
	if row.Name != epollwait.Name || row.Info.Resolution != time.Millisecond || !row.HasRaw {
		t.Errorf("row = %q, Info %v, raw loop %v; want %s, its own Info, and its raw loop", row.Name, row.Info, row.HasRaw, epollwait.Name)
	}
	for i, c := range append(row.Wait, row.PingPong) {
		if c.Err != nil || c.NA != "" || c.Raw <= 0 || c.Mux <= 0 || c.Ratio <= 0 {
			t.Errorf("cost #%d = %+v; want the backend's time, its raw loop's, and their ratio", i, c)
		}
	}
	if len(row.Timeouts) != 1 || row.Timeouts[0].Min < time.Millisecond {
		t.Errorf("timeouts = %+v; want one Wait(1ms) sample set, none shorter than 1ms", row.Timeouts)
	}

	var out bytes.Buffer
	if err := r.WriteText(&out, false); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	_, table, _ := strings.Cut(text, "Wait cost:")
	line := regexp.MustCompile(`(?m)^` + epollwait.Name + ` .*$`).FindString(table)
	if cells := regexp.MustCompile(`×[0-9]+\.[0-9]{2}`).FindAllString(line, -1); len(cells) != len(bud.Ns) {
		t.Errorf("the Wait cost row of %s is %q; want a ratio for each N\n%s", epollwait.Name, line, text)
	}
}
