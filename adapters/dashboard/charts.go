package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// bar is one labelled value of a bar chart.
type bar struct {
	Label string
	Value float64
}

// barChart draws horizontal bars as inline SVG, coloured by the
// stylesheet (classes, no style attributes: the CSP allows no inline
// style). The figures are also in a table beside it for screen readers.
func barChart(title string, bars []bar) template.HTML {
	const w, rowH, labelW = 560, 26, 170
	h := rowH*len(bars) + 8
	max := 0.0
	for _, b := range bars {
		max = math.Max(max, b.Value)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`, w, h, html.EscapeString(title), html.EscapeString(title))
	for i, b := range bars {
		y := 4 + i*rowH
		bw := 0.0
		if max > 0 {
			bw = (w - labelW - 60) * b.Value / max
		}
		fmt.Fprintf(&sb, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+17, html.EscapeString(firstRunes(b.Label, 24)))
		fmt.Fprintf(&sb, `<rect class="bar" x="%d" y="%d" width="%.1f" height="%d" rx="3"></rect>`, labelW, y+4, bw, rowH-8)
		fmt.Fprintf(&sb, `<text class="value" x="%.1f" y="%d">%s</text>`, float64(labelW)+bw+6, y+17, trimFloat(b.Value))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // every label is escaped above
}

// interval is one variant's rate with its 95% confidence interval.
type interval struct {
	Label           string
	Rate, Low, High float64
	Control         bool
}

// ciChart draws each variant's acceptance rate as a dot on its 95%
// interval, on a shared axis that spans the intervals.
func ciChart(title string, rows []interval) template.HTML {
	const w, rowH, labelW, pad = 560, 34, 150, 24
	h := rowH*len(rows) + 30
	lo, hi := 1.0, 0.0
	for _, r := range rows {
		lo, hi = math.Min(lo, r.Low), math.Max(hi, r.High)
	}
	if hi <= lo {
		lo, hi = 0, 1
	}
	span := hi - lo
	lo, hi = math.Max(0, lo-span*0.1), math.Min(1, hi+span*0.1)
	x := func(v float64) float64 { return labelW + (w-labelW-pad)*(v-lo)/(hi-lo) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`, w, h, html.EscapeString(title), html.EscapeString(title))
	axisY := h - 22
	fmt.Fprintf(&sb, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"></line>`, labelW, axisY, w-pad, axisY)
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&sb, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%.0f%%</text>`, x(v), axisY+16, v*100)
	}
	for i, r := range rows {
		y := 8 + i*rowH + rowH/2
		cls := "ci"
		if r.Control {
			cls = "ci control"
		}
		fmt.Fprintf(&sb, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+5, html.EscapeString(firstRunes(r.Label, 20)))
		fmt.Fprintf(&sb, `<line class="%s" x1="%.1f" y1="%d" x2="%.1f" y2="%d"></line>`, cls, x(r.Low), y, x(r.High), y)
		fmt.Fprintf(&sb, `<circle class="%s" cx="%.1f" cy="%d" r="5"></circle>`, cls, x(r.Rate), y)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // every label is escaped above
}

func trimFloat(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.2f", f)
}
