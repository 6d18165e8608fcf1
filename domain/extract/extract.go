// Package extract finds the entities a memory's text names without a model:
// emails, URLs, handles, dates, amounts of money, and capitalised names,
// typed by small word lists and the words around them. It is pure (the
// standard library only) and fast enough to run on every write
// (BenchmarkExtract; docs/benchmarks.md). Its precision and recall on
// testdata/entities/labelled.jsonl are measured by TestLabelledPrecisionRecall.
package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/engram-memory/engram/domain"
)

// token is one white-space separated word with its byte offsets; core is
// the word without surrounding punctuation, at [cs, ce).
type token struct {
	raw      string
	start    int
	core     string
	cs, ce   int
	endsSent bool // ends with . ! ? : or ; (a sentence or clause ends)
	endsRun  bool // ends with any punctuation that breaks a name
}

// Entities returns the mentions in text, in order of appearance, at most
// domain.MaxMentionsPerMemory, one per key.
func Entities(text string) []domain.Mention {
	toks := tokenize(text)
	var out []domain.Mention
	used := make([]bool, len(toks))
	for i := 0; i < len(toks); i++ {
		if m, n, ok := special(toks, i); ok {
			out = append(out, m)
			for j := i; j < i+n; j++ {
				used[j] = true
			}
			i += n - 1
		}
	}
	out = append(out, names(toks, used)...)
	sortByStart(out)
	return domain.NormalizeMentions(out)
}

func tokenize(text string) []token {
	toks := make([]token, 0, 24)
	i := 0
	for i < len(text) {
		for i < len(text) && isSpaceByte(text[i]) {
			i++
		}
		if i >= len(text) {
			break
		}
		j := i
		for j < len(text) && !isSpaceByte(text[j]) {
			j++
		}
		raw := text[i:j]
		cs, ce := i, j
		for cs < ce {
			r, n := utf8.DecodeRuneInString(text[cs:ce])
			if !trimLeading(r) {
				break
			}
			cs += n
		}
		for ce > cs {
			r, n := utf8.DecodeLastRuneInString(text[cs:ce])
			if !trimTrailing(r) {
				break
			}
			ce -= n
		}
		t := token{raw: raw, start: i, core: text[cs:ce], cs: cs, ce: ce}
		tail := text[ce:j]
		t.endsSent = strings.ContainsAny(tail, ".!?:;")
		t.endsRun = tail != "" && strings.ContainsAny(tail, ".,!?:;)\"”]")
		toks = append(toks, t)
		i = j
	}
	return toks
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func trimLeading(r rune) bool {
	return r == '(' || r == '"' || r == '\'' || r == '“' || r == '‘' || r == '[' || r == '<'
}

func trimTrailing(r rune) bool {
	return r == '.' || r == ',' || r == '!' || r == '?' || r == ':' || r == ';' || r == ')' ||
		r == '"' || r == '\'' || r == '”' || r == '’' || r == ']' || r == '>'
}

// special finds an email, URL, handle, date or amount starting at toks[i];
// n is how many tokens it spans.
func special(toks []token, i int) (m domain.Mention, n int, ok bool) {
	t := toks[i]
	c := t.core
	if c == "" {
		return m, 0, false
	}
	switch {
	case isURL(c):
		return domain.Mention{Name: c, Type: domain.EntityOther, Kind: domain.MentionURL, Start: t.cs, End: t.ce}, 1, true
	case isEmail(c):
		return domain.Mention{Name: strings.ToLower(c), Type: domain.EntityOther, Kind: domain.MentionEmail, Start: t.cs, End: t.ce}, 1, true
	case isHandle(c):
		return domain.Mention{Name: c, Type: domain.EntityPerson, Kind: domain.MentionHandle, Start: t.cs, End: t.ce}, 1, true
	}
	if m, n, ok := money(toks, i); ok {
		return m, n, true
	}
	if m, n, ok := date(toks, i); ok {
		return m, n, true
	}
	return m, 0, false
}

func isURL(s string) bool {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return len(s) > 10
	}
	if strings.HasPrefix(s, "www.") && strings.Count(s, ".") >= 2 {
		return true
	}
	// host.tld/path: a known code host or a dot before a slash.
	slash := strings.IndexByte(s, '/')
	if slash <= 0 || strings.IndexByte(s, '@') >= 0 {
		return false
	}
	host := s[:slash]
	dot := strings.LastIndexByte(host, '.')
	if dot <= 0 || dot == len(host)-1 {
		return false
	}
	tld := host[dot+1:]
	for _, r := range tld {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return len(tld) >= 2 && len(tld) <= 6
}

func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') {
		return false
	}
	host := s[at+1:]
	dot := strings.LastIndexByte(host, '.')
	return dot > 0 && dot < len(host)-2 && !strings.ContainsAny(s, "/:")
}

func isHandle(s string) bool {
	if len(s) < 2 || s[0] != '@' || len(s) > 40 {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isAlnumByte(c) || c == '_' || c == '.' && i < len(s)-1) {
			return false
		}
	}
	return true
}

func isAlnumByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func sortByStart(ms []domain.Mention) {
	// insertion sort: a memory has a handful of mentions
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Start < ms[j-1].Start; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

func upperStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}
