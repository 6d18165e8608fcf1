package extract

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/engram-memory/engram/domain"
)

var currencyWords = map[string]bool{
	"usd": true, "eur": true, "gbp": true, "chf": true, "jpy": true, "cad": true, "aud": true, "brl": true,
	"dollars": true, "dollar": true, "euros": true, "euro": true, "pounds": true, "bucks": true, "yen": true,
}

// amount reports whether s is a number as amounts are written: digits with
// , and . separators and an optional k/m/bn multiplier.
func amount(s string) bool {
	s = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(s), "k"), "m"), "bn")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == ',' || c == '.') {
			return false
		}
	}
	c := s[len(s)-1]
	return c >= '0' && c <= '9'
}

// money finds "$1,450", "€45", "2,300 EUR", "300 dollars", "USD 650".
func money(toks []token, i int) (domain.Mention, int, bool) {
	t := toks[i]
	c := t.core
	for _, sym := range []string{"$", "€", "£", "¥"} {
		if strings.HasPrefix(c, sym) && amount(c[len(sym):]) {
			return domain.Mention{Name: c, Type: domain.EntityOther, Kind: domain.MentionMoney, Start: t.cs, End: t.ce}, 1, true
		}
	}
	if i+1 < len(toks) && !t.endsRun {
		next := toks[i+1]
		if amount(c) && currencyWords[strings.ToLower(next.core)] {
			return domain.Mention{Name: c + " " + next.core, Type: domain.EntityOther, Kind: domain.MentionMoney, Start: t.cs, End: next.ce}, 2, true
		}
		if currencyWords[strings.ToLower(c)] && len(c) == 3 && amount(next.core) {
			return domain.Mention{Name: c + " " + next.core, Type: domain.EntityOther, Kind: domain.MentionMoney, Start: t.cs, End: next.ce}, 2, true
		}
	}
	return domain.Mention{}, 0, false
}

var months = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
	"september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}

// day parses "3", "03", "3rd", "21st".
func day(s string) (int, bool) {
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		s = strings.TrimSuffix(s, suf)
	}
	d, err := strconv.Atoi(s)
	return d, err == nil && d >= 1 && d <= 31 && len(s) <= 2
}

func year(s string) (int, bool) {
	if len(s) != 4 {
		return 0, false
	}
	y, err := strconv.Atoi(s)
	return y, err == nil && y >= 1800 && y <= 2200
}

func month(s string) (int, bool) {
	m, ok := months[strings.ToLower(s)]
	return m, ok && upperStart(s)
}

// date finds ISO dates (2024-05-14), numeric dates (30/09/2024, kept as
// written: day and month order is ambiguous), "12 July 1990", "June 3,
// 2019", "March 3rd, 1988", "March 2024", "14 February", and a year after
// "in", "since" or "from". Named dates are written in ISO form: 1990-07-12,
// 2024-03, --02-14 (a day of no particular year).
func date(toks []token, i int) (domain.Mention, int, bool) {
	t := toks[i]
	c := t.core
	mk := func(name string, n int) (domain.Mention, int, bool) {
		return domain.Mention{Name: name, Type: domain.EntityDate, Kind: domain.MentionDate, Start: t.cs, End: toks[i+n-1].ce}, n, true
	}
	if isISODate(c) || isNumericDate(c) {
		return mk(c, 1)
	}
	at := func(k int) (string, bool) {
		if i+k < len(toks) && !toks[i+k-1].endsRunExceptComma() {
			return toks[i+k].core, true
		}
		return "", false
	}
	// Month first: "June 3, 2019", "March 2024", "March 3rd".
	if m, ok := month(c); ok {
		if s, ok := at(1); ok {
			if y, ok := year(s); ok {
				return mk(fmt.Sprintf("%04d-%02d", y, m), 2)
			}
			if d, ok := day(s); ok {
				if s2, ok := at(2); ok {
					if y, ok := year(s2); ok {
						return mk(fmt.Sprintf("%04d-%02d-%02d", y, m, d), 3)
					}
				}
				return mk(fmt.Sprintf("--%02d-%02d", m, d), 2)
			}
		}
		return domain.Mention{}, 0, false
	}
	// Day first: "12 July 1990", "14 February".
	if d, ok := day(c); ok {
		if s, ok := at(1); ok {
			if m, ok := month(s); ok {
				if s2, ok := at(2); ok {
					if y, ok := year(s2); ok {
						return mk(fmt.Sprintf("%04d-%02d-%02d", y, m, d), 3)
					}
				}
				return mk(fmt.Sprintf("--%02d-%02d", m, d), 2)
			}
		}
	}
	// A bare year after a preposition of time.
	if _, ok := year(c); ok && i > 0 {
		switch strings.ToLower(toks[i-1].core) {
		case "in", "since", "from", "until", "by", "of", "during":
			return mk(c, 1)
		}
	}
	return domain.Mention{}, 0, false
}

// endsRunExceptComma: a comma may sit inside a date ("June 3, 2019").
func (t token) endsRunExceptComma() bool {
	tail := t.raw[t.ce-t.start:]
	return strings.ContainsAny(tail, ".!?:;)")
}

func isISODate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for _, k := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if s[k] < '0' || s[k] > '9' {
			return false
		}
	}
	return true
}

func isNumericDate(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		parts = strings.Split(s, ".")
	}
	if len(parts) != 3 || len(parts[0]) > 2 || len(parts[1]) > 2 || len(parts[2]) != 4 {
		return false
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil || p == "" {
			return false
		}
	}
	return true
}
