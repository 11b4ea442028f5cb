//go:build unix

package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

// A span is one request on a timeline: when it started and ended, counted
// from the start of its phase.
type span struct {
	Start, End time.Duration
	Err        error
}

// A phase is one way of making the demo's requests, and how long each took.
type phase struct {
	Title string // such as "sequential"
	How   string // a line saying how the requests were made
	Spans []span
	Total time.Duration // from the phase's start to its last response
}

// barWidth is the number of columns of a text timeline.
const barWidth = 60

// textBar draws [start, end) on a scale of barWidth columns for total:
// spaces before, "#" during (at least one), spaces after, between "|".
func textBar(start, end, total time.Duration) string {
	if total <= 0 {
		total = 1
	}
	col := func(d time.Duration, rnd func(float64) float64) int {
		c := int(rnd(float64(d) / float64(total) * barWidth))
		return max(0, min(barWidth, c))
	}
	from, to := col(start, math.Floor), col(end, math.Ceil)
	if from >= barWidth {
		from = barWidth - 1
	}
	if to <= from {
		to = from + 1
	}
	return "|" + strings.Repeat(" ", from) + strings.Repeat("#", to-from) + strings.Repeat(" ", barWidth-to) + "|"
}

// roundDur makes a duration short to print: three significant digits.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// writeTimeline prints each phase's requests as bars on one scale, so
// that the phases can be compared by eye.
func writeTimeline(w io.Writer, scale time.Duration, phases ...phase) {
	for i, p := range phases {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s: %s\n", p.Title, p.How)
		fmt.Fprintf(w, "%4s %9s %9s  0%*v\n", "#", "start", "end", barWidth+1, roundDur(scale))
		for j, s := range p.Spans {
			line := fmt.Sprintf("%4d %9v %9v  %s", j+1, roundDur(s.Start), roundDur(s.End), textBar(s.Start, s.End, scale))
			if s.Err != nil {
				line += "  error: " + s.Err.Error()
			}
			fmt.Fprintln(w, line)
		}
	}
}

// SVG layout, in user units (pixels).
const (
	svgWidth  = 760
	svgLeft   = 50 // room for request numbers
	svgRight  = 20 // margin
	svgRow    = 12 // height of a request's row
	svgBar    = 9  // height of a bar
	svgTitle  = 36 // room for a panel's title
	svgAxis   = 30 // room for the time axis under the last panel
	svgGap    = 16 // between panels
	svgMargin = 10 // above everything
	svgTicks  = 5  // intervals on the time axis
	svgFont   = 11 // font size
)

// svgColors are the bar colours of the phases, in order.
var svgColors = []string{"#d95f02", "#1b9e77", "#7570b3"}

// writeSVG draws the phases as stacked panels of bars on one time scale,
// with a grid line at each tick of the time axis.
func writeSVG(w io.Writer, scale time.Duration, phases ...phase) error {
	if scale <= 0 {
		scale = 1
	}
	plot := float64(svgWidth - svgLeft - svgRight)
	x := func(d time.Duration) float64 { return svgLeft + plot*float64(d)/float64(scale) }
	step := tickStep(scale, svgTicks)

	height := svgMargin + svgAxis
	for _, p := range phases {
		height += svgTitle + svgRow*len(p.Spans) + svgGap
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">`+"\n",
		svgWidth, height, svgWidth, height, svgFont)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgWidth, height)
	y := svgMargin
	for i, p := range phases {
		color := svgColors[i%len(svgColors)]
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n",
			svgLeft, y+14, html.EscapeString(fmt.Sprintf("%s — total %v", p.Title, roundDur(p.Total))))
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">%s</text>`+"\n", svgLeft, y+28, html.EscapeString(p.How))
		y += svgTitle
		bottom := y + svgRow*len(p.Spans)
		for d := time.Duration(0); d <= scale; d += step {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc" stroke-width="0.5"/>`+"\n", x(d), y-2, x(d), bottom+2)
		}
		for j, s := range p.Spans {
			x0, x1 := x(s.Start), x(s.End)
			fill := color
			if s.Err != nil {
				fill = "#999"
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="9">%d</text>`+"\n", svgLeft-6, y+svgBar, j+1)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				x0, y+1, math.Max(x1-x0, 1), svgBar, fill,
				html.EscapeString(fmt.Sprintf("#%d: %v to %v", j+1, roundDur(s.Start), roundDur(s.End))))
			y += svgRow
		}
		y += svgGap
	}
	// The time axis under the last panel.
	axis := y - svgGap + 4
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`+"\n", svgLeft, axis, svgWidth-svgRight, axis)
	for d := time.Duration(0); d <= scale; d += step {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(d), axis+14, d)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// tickStep returns a round step — 1, 2 or 5 times a power of ten
// nanoseconds — of which at most n fit in total.
func tickStep(total time.Duration, n int) time.Duration {
	for unit := time.Duration(1); ; unit *= 10 {
		for _, m := range []time.Duration{1, 2, 5} {
			if step := m * unit; total/step <= time.Duration(n) {
				return step
			}
		}
	}
}
