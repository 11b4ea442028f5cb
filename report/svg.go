//go:build unix

package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
)

// series is one line of the chart: a backend's cost at each N.
type series struct {
	name   string
	points []point
	dashed bool
}

type point struct {
	n    int
	cost time.Duration
}

// chartSeries turns the Wait costs of rows into series, leaving out what
// was not measured.
func chartSeries(rows []Row, bud Budget) []series {
	var out []series
	for _, row := range rows {
		s := series{name: row.Name, dashed: row.Virtual}
		for i, c := range row.Wait {
			if c.measured() {
				s.points = append(s.points, point{bud.Ns[i], c.Mux})
			}
		}
		if s.dashed {
			s.name += " (virtual)"
		}
		if len(s.points) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// WriteSVG writes a log–log chart of Wait's cost against the number of
// descriptors, one line per backend, as SVG.
func (r *Report) WriteSVG(w io.Writer) error {
	title := fmt.Sprintf("Wait with one ready descriptor among N idle (muxkit, %s/%s)", runtime.GOOS, runtime.GOARCH)
	return writeChart(w, title, chartSeries(r.Rows, r.Budget))
}

func (r *Report) writeSVGFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = r.WriteSVG(f)
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 640, 400
	plotL, plotR   = 78, 620 // left and right edges of the plot area
	plotT, plotB   = 44, 340 // top and bottom edges
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#7f7f7f", "#9467bd", "#ff7f0e"}

// writeChart writes a log–log chart of the series: N on the x axis, the
// time per Wait on the y axis, a decade per tick, one polyline per series
// and a legend.
func writeChart(w io.Writer, title string, ss []series) error {
	// The axes span whole decades around the data.
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, p := range s.points {
			x, y := math.Log10(float64(p.n)), math.Log10(float64(p.cost))
			xlo, xhi = min(xlo, x), max(xhi, x)
			ylo, yhi = min(ylo, y), max(yhi, y)
		}
	}
	if math.IsInf(xlo, 1) { // no data: an empty frame of 1–10000, 100ns–1ms
		xlo, xhi, ylo, yhi = 0, 4, 2, 6
	}
	xlo, xhi = math.Floor(xlo), math.Max(math.Ceil(xhi), math.Floor(xlo)+1)
	ylo, yhi = math.Floor(ylo), math.Max(math.Ceil(yhi), math.Floor(ylo)+1)
	px := func(n float64) float64 { return plotL + (math.Log10(n)-xlo)/(xhi-xlo)*(plotR-plotL) }
	py := func(ns float64) float64 { return plotB - (math.Log10(ns)-ylo)/(yhi-ylo)*(plotB-plotT) }

	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">
<rect width="100%%" height="100%%" fill="white"/>
<text x="%d" y="24" text-anchor="middle" font-size="14">%s</text>
`, chartW, chartH, chartW, chartH, chartW/2, esc(title))

	// Grid and tick labels, one per decade.
	b.WriteString(`<g stroke="#dddddd" stroke-width="1">` + "\n")
	for e := xlo; e <= xhi; e++ {
		x := px(math.Pow(10, e))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`+"\n", x, plotT, x, plotB)
	}
	for e := ylo; e <= yhi; e++ {
		y := py(math.Pow(10, e))
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`+"\n", plotL, y, plotR, y)
	}
	b.WriteString("</g>\n")
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>`+"\n", plotL, plotT, plotR-plotL, plotB-plotT)
	for e := xlo; e <= xhi; e++ {
		fmt.Fprintf(b, `<text class="xtick" x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n",
			px(math.Pow(10, e)), plotB+18, esc(fmt.Sprint(int64(math.Pow(10, e)))))
	}
	for e := ylo; e <= yhi; e++ {
		fmt.Fprintf(b, `<text class="ytick" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n",
			plotL-6, py(math.Pow(10, e)), esc(decade(e)))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n",
		(plotL+plotR)/2, plotB+40, esc("N, idle descriptors watched (log scale)"))
	fmt.Fprintf(b, `<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">%s</text>`+"\n",
		(plotT+plotB)/2, (plotT+plotB)/2, esc("time per Wait (log scale)"))

	// The lines, with a marker at each measured point.
	for i, s := range ss {
		color := palette[i%len(palette)]
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(float64(p.n)), py(float64(p.cost))))
		}
		fmt.Fprintf(b, `<polyline data-backend="%s" points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n",
			esc(s.name), strings.Join(pts, " "), color, dash)
		for _, p := range s.points {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(float64(p.n)), py(float64(p.cost)), color)
		}
	}

	// The legend, inside the plot's top left corner.
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="150" height="%d" fill="white" fill-opacity="0.85" stroke="#bbbbbb"/>`+"\n",
		plotL+10, plotT+10, 10+18*len(ss))
	for i, s := range ss {
		y := plotT + 24 + 18*i
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n",
			plotL+18, y, plotL+42, y, palette[i%len(palette)], dash)
		fmt.Fprintf(b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", plotL+50, y, esc(s.name))
	}
	b.WriteString("</svg>\n")
	return b.Flush()
}

// decade labels 10^e nanoseconds: "100 ns", "1 µs", "10 ms".
func decade(e float64) string {
	units := []string{"ns", "µs", "ms", "s"}
	k := int(e) / 3
	if k >= len(units) {
		k = len(units) - 1
	}
	v := math.Pow(10, e-float64(3*k))
	return fmt.Sprintf("%g %s", v, units[k])
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
