//go:build unix

package main

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

	"github.com/muxkit/muxkit/mux/backend"
)

func TestDemoBar(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		start, end, total time.Duration
		from, to          int // columns of '#'
	}{
		{0, s, s, 0, barWidth},
		{0, s / 2, s, 0, barWidth / 2},
		{s / 2, s, s, barWidth / 2, barWidth},
		{0, 0, s, 0, 1},                   // at least one column
		{s, s, s, barWidth - 1, barWidth}, // even at the very end
		{s / 4, s/4 + 1, s, barWidth / 4, barWidth/4 + 1},
	} {
		b := textBar(tc.start, tc.end, tc.total)
		want := "|" + strings.Repeat(" ", tc.from) + strings.Repeat("#", tc.to-tc.from) + strings.Repeat(" ", barWidth-tc.to) + "|"
		if b != want {
			t.Errorf("textBar(%v, %v, %v) =\n%q; want\n%q", tc.start, tc.end, tc.total, b, want)
		}
	}
}

func TestDemoTickStep(t *testing.T) {
	for _, tc := range []struct {
		total, want time.Duration
	}{
		{4030 * time.Millisecond, time.Second},
		{5 * time.Second, time.Second},
		{5001 * time.Millisecond, time.Second}, // five whole intervals and a sliver
		{6 * time.Second, 2 * time.Second},
		{210 * time.Millisecond, 50 * time.Millisecond},
		{3, 1},
		{1, 1},
	} {
		if got := tickStep(tc.total, 5); got != tc.want {
			t.Errorf("tickStep(%v, 5) = %v; want %v", tc.total, got, tc.want)
		}
	}
}

var totalRE = regexp.MustCompile(`(?m)^(sequential|concurrent) total: (\S+) for (\d+) requests`)

// TestDemo runs the demo with few, short requests on each backend and
// checks the shape of what it prints and draws, and that the requests
// through the loop overlap: the concurrent total must be under half the
// sequential one. The sequential phase takes at least n×delay = 500ms by
// construction (the server sleeps), the concurrent one about one delay
// (50ms), and a loop that ran the requests one after another would take
// as long as the sequential phase; half leaves a wide margin both ways.
func TestDemo(t *testing.T) {
	const n = 10
	for _, name := range backend.Names() {
		t.Run(name, func(t *testing.T) {
			svg := filepath.Join(t.TempDir(), "timeline.svg")
			var out, errs bytes.Buffer
			args := []string{"-n", "10", "-delay", "50ms", "-backend", name, "-svg", svg}
			if code := runDemo(args, &out, &errs); code != 0 {
				t.Fatalf("muxkit demo %s exited %d; want 0\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errs.String())
			}
			got := out.String()
			for _, want := range []string{"sequential: ", "concurrent: ", "blocking calls", "event loop over " + name, "speed-up:", "timeline written to"} {
				if !strings.Contains(got, want) {
					t.Errorf("demo output lacks %q:\n%s", want, got)
				}
			}
			if bars := strings.Count(got, "|\n"); bars != 2*n {
				t.Errorf("demo drew %d bars; want %d, one per request of each phase:\n%s", bars, 2*n, got)
			}
			if strings.Contains(got, "error") {
				t.Errorf("demo reported an error:\n%s", got)
			}
			totals := map[string]time.Duration{}
			for _, m := range totalRE.FindAllStringSubmatch(got, -1) {
				d, err := time.ParseDuration(m[2])
				if err != nil || m[3] != "10" {
					t.Fatalf("total line %q: want a duration and 10 requests", m[0])
				}
				totals[m[1]] = d
			}
			seq, conc := totals["sequential"], totals["concurrent"]
			if seq == 0 || conc == 0 {
				t.Fatalf("demo output lacks a total line for each phase:\n%s", got)
			}
			if seq < n*50*time.Millisecond {
				t.Errorf("sequential total %v; want at least %d × 50ms: the server sleeps that long per request", seq, n)
			}
			if conc >= seq/2 {
				t.Errorf("concurrent total %v, sequential %v; want the concurrent run under half the sequential: the loop runs the requests at once", conc, seq)
			}
			checkSVG(t, svg, 2*n)
		})
	}
}

// checkSVG checks that path is well-formed SVG with a bar per request.
func checkSVG(t *testing.T, path string, bars int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the SVG: %v", err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	var root string
	rects, titles := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, data)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			switch se.Name.Local {
			case "rect":
				rects++
			case "title":
				titles++
			}
		}
	}
	if root != "svg" {
		t.Errorf("the SVG's root element is %q; want svg", root)
	}
	// One background rect, then one per request, each with a tooltip.
	if rects != bars+1 || titles != bars {
		t.Errorf("the SVG has %d rects and %d titles; want %d bars with a title each, and a background", rects, titles, bars)
	}
}

func TestDemoUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-n", "0"}, []string{"-n 0"}},
		{[]string{"-delay", "-1s"}, []string{"-delay"}},
		{[]string{"-backend", "kqueue9"}, append([]string{"kqueue9"}, backend.Names()...)},
		{[]string{"extra"}, []string{"extra", "usage:"}},
		{[]string{"-bogus"}, []string{"-bogus", "usage:"}},
	} {
		var out, errs bytes.Buffer
		if code := runDemo(tc.args, &out, &errs); code != 2 {
			t.Errorf("muxkit demo %q exited %d; want 2", tc.args, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs.String(), w) {
				t.Errorf("muxkit demo %q said %q; want it to mention %q", tc.args, errs.String(), w)
			}
		}
	}
}
