//go:build unix

package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/measure"
	"github.com/muxkit/muxkit/mux/backend"
)

// tiny is a budget that measures next to nothing, so that tests run the
// whole measurement path quickly.
var tiny = Budget{
	Name:     "tiny",
	Ns:       []int{1, 10},
	Rounds:   1,
	Chunk:    50 * time.Microsecond,
	Timeouts: []Sample{{50 * time.Microsecond, 3}, {time.Millisecond, 1}},
}

// useBudget makes Main measure with bud instead of Quick until the test
// ends.
func useBudget(t *testing.T, bud Budget) {
	saved := Quick
	Quick = bud
	t.Cleanup(func() { Quick = saved })
}

func TestUnknownFlag(t *testing.T) {
	var out, errs bytes.Buffer
	if code := Main([]string{"-bogus"}, &out, &errs); code != 2 {
		t.Errorf("muxkit -bogus exited %d; want 2", code)
	}
	if !strings.Contains(errs.String(), "-bogus") || !strings.Contains(errs.String(), "usage:") {
		t.Errorf("muxkit -bogus said %q; want the flag named and the usage", errs.String())
	}
}

func TestUnknownBackend(t *testing.T) {
	var out, errs bytes.Buffer
	if code := Main([]string{"-backend", "kqueue9"}, &out, &errs); code != 2 {
		t.Errorf("muxkit -backend kqueue9 exited %d; want 2", code)
	}
	msg := errs.String()
	if !strings.Contains(msg, "kqueue9") || !strings.Contains(msg, "poll") {
		t.Errorf("muxkit -backend kqueue9 said %q; want the bad name and the valid ones", msg)
	}
}

func TestStrayArgument(t *testing.T) {
	var out, errs bytes.Buffer
	if code := Main([]string{"-v", "epoll"}, &out, &errs); code != 2 {
		t.Errorf("muxkit -v epoll exited %d; want 2", code)
	}
}

// costCell matches a measured cell such as "2.03µs ×1.01".
var costCell = regexp.MustCompile(`^[0-9.]+(ns|µs|ms) ×[0-9]+\.[0-9]{2}$`)

// tableRow returns the cells of the row of out's table titled title whose
// first cell is name, split on runs of two or more spaces.
func tableRow(t *testing.T, out, title, name string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(out, title)
	if !ok {
		t.Fatalf("the report has no table %q:\n%s", title, out)
	}
	rest, _, _ = strings.Cut(rest, "\n\n")
	for _, line := range strings.Split(rest, "\n") {
		cells := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		if cells[0] == name {
			return cells
		}
	}
	t.Fatalf("table %q has no row for %s:\n%s", title, name, rest)
	return nil
}

// TestMeasurements runs the measurement path with a tiny budget on the
// default backend and the fake and checks the tables' structure.
func TestMeasurements(t *testing.T) {
	name := backend.Names()[0]
	r := &Report{Budget: tiny}
	for _, n := range []string{name, FakeName} {
		row := Row{Name: n, Virtual: n == FakeName}
		if !row.Virtual {
			row.Info, _ = backend.Describe(n)
		}
		var steps []string
		measureRow(&row, tiny, func(s string) { steps = append(steps, s) })
		if row.Err != nil {
			t.Fatalf("measuring %s: %v", n, row.Err)
		}
		if len(steps) < len(tiny.Ns) {
			t.Errorf("measuring %s announced %d steps (%q); want one per measurement at least", n, len(steps), steps)
		}
		r.Rows = append(r.Rows, row)
	}
	r.References = measureReferences(tiny, func(string) {})
	if r.Failed() {
		t.Fatalf("the report of %s and the fake failed: %+v", name, r)
	}
	var out bytes.Buffer
	r.printMeasurements(&out)
	got := out.String()

	for _, n := range []string{name, FakeName} {
		row := tableRow(t, got, "Wait cost:", n)
		if len(row) != 1+len(tiny.Ns) {
			t.Errorf("Wait cost row %q has %d cells; want the name and one per N (%v)", row, len(row), tiny.Ns)
		}
		for _, c := range row[1:] {
			if !costCell.MatchString(c) {
				t.Errorf("Wait cost row of %s: cell %q; want a time and a ratio like \"2.03µs ×1.01\"", n, c)
			}
		}
	}
	io := regexp.MustCompile(`(?m)^fake: Read of 64 bytes (\S+ \S+), Write of 64 bytes (\S+ \S+) \(`).FindStringSubmatch(got)
	if io == nil || !costCell.MatchString(io[1]) || !costCell.MatchString(io[2]) {
		t.Errorf("the report has no line for the fake's Read and Write with their ratios to read(2) and write(2):\n%s", got)
	}
	row := tableRow(t, got, "Timeout precision:", name)
	if len(row) != 1+len(tiny.Timeouts) {
		t.Errorf("timeout row %q; want the name and one cell per timeout", row)
	}
	for _, c := range row[1:] {
		if !statsCell.MatchString(c) {
			t.Errorf("timeout cell %q; want \"median / p99\"", c)
		}
	}
	for _, ref := range []string{"poll(2), timeout in ms (reference)", "time.Sleep (reference)"} {
		tableRow(t, got, "Timeout precision:", ref)
	}
	if row := tableRow(t, got, "Timeout precision:", FakeName); row[1] != "virtual clock" {
		t.Errorf("the fake's timeout row is %q; want it to say its clock is virtual", row)
	}
	sum := tableRow(t, got, "Choosing a backend", name)
	// name, conformance, max fd, growth, Wait at N=10, ping-pong, Wait(1ms)
	if len(sum) != 7 || !strings.Contains(sum[3], "from N=1 to 10") || !costCell.MatchString(sum[4]) || !costCell.MatchString(sum[5]) {
		t.Errorf("summary row %q; want conformance, max fd, growth from N=1 to 10, Wait at N=10 and ping-pong with ratios, Wait(1ms)", sum)
	}
	if strings.Contains(got, "n/a") {
		t.Errorf("the tables of %s, whose raw loop is registered, and of the fake say n/a:\n%s", name, got)
	}
}

// statsCell matches a cell of the timeout table such as "1.12ms / 3.99ms".
var statsCell = regexp.MustCompile(`^[0-9.]+(µs|ms) / [0-9.]+(µs|ms)$`)

// TestReport runs the whole command on one backend, with a tiny budget,
// and writes the chart.
func TestReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	useBudget(t, tiny)
	svg := filepath.Join(t.TempDir(), "chart.svg")
	var out, errs bytes.Buffer
	code := Main([]string{"-backend", "poll", "-svg", svg}, &out, &errs)
	if code != 0 {
		t.Fatalf("muxkit -backend poll exited %d; want 0\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	got := out.String()
	for _, want := range []string{
		"backend", "poll", "no limit", "Readable, Writable",
		"rule", "EINTR never reaches the caller", "pass 1/1",
		"Wait cost:", "Timeout precision:", "Choosing a backend",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("muxkit -backend poll output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "FAIL") {
		t.Errorf("muxkit -backend poll reported a failure:\n%s", got)
	}
	for _, want := range []string{"checking poll", "measuring poll", "wrote " + svg} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("muxkit's progress on stderr lacks %q:\n%s", want, errs.String())
		}
	}
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatalf("muxkit -svg did not write the chart: %v", err)
	}
	if c := parseChart(t, data); len(c.lines) != 1 || c.lines[0] != "poll" {
		t.Errorf("the chart of -backend poll has lines %q; want one, for poll", c.lines)
	}
}

// chart is what parseChart found in an SVG.
type chart struct {
	root         string
	lines        []string // data-backend of each polyline
	xTick, yTick []string
	texts        []string // every text element
}

// parseChart decodes the whole of an SVG, failing the test if it is not
// well-formed XML.
func parseChart(t *testing.T, data []byte) chart {
	t.Helper()
	var c chart
	d := xml.NewDecoder(bytes.NewReader(data))
	var class string
	inText := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v\n%s", err, data)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if c.root == "" {
				c.root = tok.Name.Local
			}
			attr := func(name string) string {
				for _, a := range tok.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			switch tok.Name.Local {
			case "polyline":
				c.lines = append(c.lines, attr("data-backend"))
				if pts := strings.Fields(attr("points")); len(pts) == 0 {
					t.Errorf("polyline %q has no points", attr("data-backend"))
				}
			case "text":
				inText, class = true, attr("class")
			}
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if !inText {
				continue
			}
			s := string(tok)
			c.texts = append(c.texts, s)
			switch class {
			case "xtick":
				c.xTick = append(c.xTick, s)
			case "ytick":
				c.yTick = append(c.yTick, s)
			}
		}
	}
	return c
}

func TestChart(t *testing.T) {
	us := time.Microsecond
	ss := []series{
		{name: "epoll", points: []point{{1, 2 * us}, {100, 2 * us}, {10000, 2 * us}}},
		{name: "poll", points: []point{{1, 2 * us}, {100, 5 * us}, {10000, 400 * us}}},
		{name: "a<b&c", points: []point{{1, 150 * time.Nanosecond}, {10000, 20 * us}}, dashed: true},
	}
	var buf bytes.Buffer
	if err := writeChart(&buf, "Wait & N", ss); err != nil {
		t.Fatalf("writeChart = %v", err)
	}
	c := parseChart(t, buf.Bytes())
	if c.root != "svg" {
		t.Errorf("root element %q; want svg", c.root)
	}
	if want := []string{"epoll", "poll", "a<b&c"}; strings.Join(c.lines, ",") != strings.Join(want, ",") {
		t.Errorf("polylines %q; want one per series, %q", c.lines, want)
	}
	if got, want := strings.Join(c.xTick, ","), "1,10,100,1000,10000"; got != want {
		t.Errorf("x ticks %q; want one per decade of N: %q", got, want)
	}
	if got, want := strings.Join(c.yTick, ","), "100 ns,1 µs,10 µs,100 µs,1 ms"; got != want {
		t.Errorf("y ticks %q; want one per decade of time with its unit: %q", got, want)
	}
	all := strings.Join(c.texts, "\n")
	for _, want := range []string{"Wait & N", "(log scale)", "epoll", "poll", "a<b&c"} {
		if !strings.Contains(all, want) {
			t.Errorf("the chart's text lacks %q (title, axis titles, legend):\n%s", want, all)
		}
	}

	// No data at all still makes a valid, empty chart.
	buf.Reset()
	if err := writeChart(&buf, "empty", nil); err != nil {
		t.Fatalf("writeChart(nil) = %v", err)
	}
	if c := parseChart(t, buf.Bytes()); len(c.lines) != 0 || len(c.xTick) == 0 {
		t.Errorf("empty chart: %d lines, x ticks %q; want no line and labelled axes", len(c.lines), c.xTick)
	}
}

func TestChartSeries(t *testing.T) {
	bud := Budget{Ns: []int{1, 10, 10000}}
	rows := []Row{
		{Name: "select", Wait: []Cost{{Comparison: resAt(2)}, {Comparison: resAt(3)}, {NA: "beyond FD_SETSIZE"}}},
		{Name: FakeName, Virtual: true, Wait: []Cost{{Comparison: resAt(1)}, {Err: errors.New("boom")}, {Comparison: resAt(9)}}},
	}
	ss := chartSeries(rows, bud)
	if len(ss) != 2 || len(ss[0].points) != 2 || len(ss[1].points) != 2 {
		t.Fatalf("chartSeries = %+v; want two series of two points, leaving out what was not measured", ss)
	}
	if !ss[1].dashed || !strings.Contains(ss[1].name, "virtual") {
		t.Errorf("the fake's series = %+v; want it dashed and called virtual", ss[1])
	}
}

// resAt is a measured cost of us microseconds.
func resAt(us int) measure.Comparison {
	d := time.Duration(us) * time.Microsecond
	return measure.Comparison{Raw: d, Mux: d, Ratio: 1}
}

func TestFmtDur(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{812, "812ns"},
		{2034, "2.03µs"},
		{36_250, "36.2µs"},
		{412_000, "412µs"},
		{1_123_000, "1.12ms"},
		{10_160_000, "10.2ms"},
		{2 * time.Second, "2.00s"},
	} {
		if got := fmtDur(tc.d); got != tc.want {
			t.Errorf("fmtDur(%d) = %q; want %q", tc.d, got, tc.want)
		}
	}
}
