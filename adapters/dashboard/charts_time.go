package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"
)

// dayCount is one UTC day's count, for the over-time chart.
type dayCount struct {
	Day   string // YYYY-MM-DD
	Value int
}

// lastDays lays byDay over the n days ending today (UTC), zeros included,
// so that a quiet day shows as a gap rather than disappearing.
func lastDays(byDay map[string]int, n int, now time.Time) []dayCount {
	out := make([]dayCount, n)
	end := now.UTC().Truncate(24 * time.Hour)
	for i := range n {
		d := end.AddDate(0, 0, i-n+1).Format(time.DateOnly)
		out[i] = dayCount{Day: d, Value: byDay[d]}
	}
	return out
}

// columnChart draws one column per day as inline SVG (classes only: the
// CSP allows no inline style). Its title names it, its desc summarises
// it for screen readers, and the page repeats the figures in a table.
func columnChart(id, title string, days []dayCount) template.HTML {
	const w, h, left, bottom, top = 560, 200, 40, 28, 10
	max, total := 0, 0
	for _, d := range days {
		max = int(math.Max(float64(max), float64(d.Value)))
		total += d.Value
	}
	var sb strings.Builder
	desc := "No memories were created in this period."
	if len(days) > 0 && total > 0 {
		desc = fmt.Sprintf("%d memories created from %s to %s; the busiest day had %d.", total, days[0].Day, days[len(days)-1].Day, max)
	}
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%[3]s-t %[3]s-d"><title id="%[3]s-t">%[4]s</title><desc id="%[3]s-d">%[5]s</desc>`,
		w, h, id, html.EscapeString(title), html.EscapeString(desc))
	plotH := float64(h - bottom - top)
	fmt.Fprintf(&sb, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"></line>`, left, h-bottom, w-4, h-bottom)
	fmt.Fprintf(&sb, `<text class="tick" x="%d" y="%d" text-anchor="end">%d</text>`, left-4, top+10, max)
	fmt.Fprintf(&sb, `<text class="tick" x="%d" y="%d" text-anchor="end">0</text>`, left-4, h-bottom)
	if n := len(days); n > 0 {
		colW := float64(w-left-4) / float64(n)
		for i, d := range days {
			bh := 0.0
			if max > 0 {
				bh = plotH * float64(d.Value) / float64(max)
			}
			x := float64(left) + colW*float64(i)
			fmt.Fprintf(&sb, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"></rect>`, x+1, float64(h-bottom)-bh, math.Max(colW-2, 1), bh)
			if i == 0 || i == n-1 || i%7 == 0 {
				fmt.Fprintf(&sb, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+colW/2, h-bottom+16, d.Day[5:])
			}
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // the title and desc are escaped above; the rest are numbers and dates
}
