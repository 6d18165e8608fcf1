package sqlitestore

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// ftsWords splits text into lower-case, accent-folded words of letters and
// digits, in order, each reduced to its English Snowball stem ("adopted",
// "adopting" → "adopt"). Index and query sides both use it, so they agree on
// what a word is whatever FTS5's tokenizer would have done. Stemming here,
// before the tenant prefix, rather than in FTS5's porter tokenizer: that one
// saw the prefix as part of the word (migration 0281).
func ftsWords(text string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, english.Stem(b.String(), true))
			b.Reset()
		}
	}
	for _, r := range norm.NFKD.String(text) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return words
}

// tenantText is the body FTS5 indexes: every stemmed word with the tenant
// prefix.
func tenantText(tok, text string) string {
	words := ftsWords(text)
	var b strings.Builder
	b.Grow(len(text) + len(words)*(len(tok)+1))
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tok)
		b.WriteString(w)
	}
	return b.String()
}

// foldTerms folds query words the way ftsWords folds indexed text,
// dropping duplicates that folding creates ("Café", "cafe").
func foldTerms(terms []string) []string {
	out := make([]string, 0, len(terms))
	seen := map[string]bool{}
	for _, t := range terms {
		for _, w := range ftsWords(t) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}
