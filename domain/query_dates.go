package domain

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A date a query names (issue 18, "ranks temporal questions better"):
// "2024-05-03", "2024-05", "May 3, 2024", "3rd of May 2024", "May 2024",
// "in 2023". Month names in English, full or three letters; a bare year
// counts only after in, during, since, from, by, around or of, so that
// "2000 calories" names no date.
var (
	monthNames = `(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)`
	isoDayRE   = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)
	isoMonthRE = regexp.MustCompile(`\b(\d{4})-(\d{2})\b`)
	mdyRE      = regexp.MustCompile(`\b` + monthNames + `\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`)
	dmyRE      = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?` + monthNames + `\.?,?\s+(\d{4})\b`)
	myRE       = regexp.MustCompile(`\b` + monthNames + `\.?,?\s+(?:of\s+)?(\d{4})\b`)
	yearRE     = regexp.MustCompile(`\b(?:in|during|since|from|by|around|of)\s+(\d{4})\b`)
)

// QueryDateRange returns the first date a query names as the half-open
// UTC range [from, to) it covers (a day, a month or a year), and false
// when it names none. Years outside 1700-2199 are no date.
func QueryDateRange(query string) (from, to time.Time, ok bool) {
	q := strings.ToLower(query)
	type hit struct {
		at       int
		from, to time.Time
	}
	var best *hit
	consider := func(at int, y, m, d int) {
		if y < 1700 || y > 2199 || m < 1 || m > 12 {
			return
		}
		var f, t time.Time
		switch {
		case d > 0:
			f = time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
			if f.Day() != d { // 31 April
				return
			}
			t = f.AddDate(0, 0, 1)
		case m > 0 && d == 0:
			f = time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
			t = f.AddDate(0, 1, 0)
		}
		if best == nil || at < best.at {
			best = &hit{at, f, t}
		}
	}
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	for _, m := range isoDayRE.FindAllStringSubmatchIndex(q, -1) {
		consider(m[0], num(q[m[2]:m[3]]), num(q[m[4]:m[5]]), num(q[m[6]:m[7]]))
	}
	for _, m := range isoMonthRE.FindAllStringSubmatchIndex(q, -1) {
		if m[1] < len(q) && q[m[1]] == '-' {
			continue // the month of an ISO day, taken above
		}
		consider(m[0], num(q[m[2]:m[3]]), num(q[m[4]:m[5]]), 0)
	}
	for _, m := range mdyRE.FindAllStringSubmatchIndex(q, -1) {
		consider(m[0], num(q[m[6]:m[7]]), monthOf(q[m[2]:m[3]]), num(q[m[4]:m[5]]))
	}
	for _, m := range dmyRE.FindAllStringSubmatchIndex(q, -1) {
		consider(m[0], num(q[m[6]:m[7]]), monthOf(q[m[4]:m[5]]), num(q[m[2]:m[3]]))
	}
	if best == nil {
		for _, m := range myRE.FindAllStringSubmatchIndex(q, -1) {
			consider(m[0], num(q[m[4]:m[5]]), monthOf(q[m[2]:m[3]]), 0)
		}
	}
	if best == nil {
		if m := yearRE.FindStringSubmatchIndex(q); m != nil {
			y := num(q[m[2]:m[3]])
			if y >= 1700 && y <= 2199 {
				f := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
				return f, f.AddDate(1, 0, 0), true
			}
		}
		return time.Time{}, time.Time{}, false
	}
	return best.from, best.to, true
}

func monthOf(name string) int {
	switch name[:3] {
	case "jan":
		return 1
	case "feb":
		return 2
	case "mar":
		return 3
	case "apr":
		return 4
	case "may":
		return 5
	case "jun":
		return 6
	case "jul":
		return 7
	case "aug":
		return 8
	case "sep":
		return 9
	case "oct":
		return 10
	case "nov":
		return 11
	case "dec":
		return 12
	}
	return 0
}
