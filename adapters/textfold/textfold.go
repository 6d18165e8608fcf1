// Package textfold is what a word is to both stores' full-text indexes
// (sqlitestore's FTS5, pgstore's tsvector) and to testdata/conv/bm25sim,
// which must count the same words the SQLite index holds: index and query
// sides fold alike, or a query misses the text it names.
package textfold

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// Words splits text into lower-case, accent-folded words of letters and
// digits, in order, each reduced to its English Snowball stem ("adopted",
// "adopting" → "adopt"). Stemming here rather than in the engine (FTS5's
// porter tokenizer, a PostgreSQL text search configuration) makes words the
// same on both engines and keeps the engines' tokenizers language-neutral.
func Words(text string) []string { return Stems(nil).Words(text) }

// Words is the package's Words, stemming each word once for all the texts
// st sees (a nil st memoises nothing): an index write of a batch of one
// tenant's texts spent a quarter of its time stemming the same words.
func (st Stems) Words(text string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			w := b.String()
			if st == nil {
				words = append(words, english.Stem(w, true))
			} else if s, ok := st[w]; ok {
				words = append(words, s)
			} else {
				s = english.Stem(w, true)
				st[w] = s
				words = append(words, s)
			}
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

// Terms folds query terms the way Words folds indexed text, in order,
// dropping duplicates that folding creates ("Café", "cafe").
func Terms(terms []string) []string {
	out := make([]string, 0, len(terms))
	seen := map[string]bool{}
	for _, t := range terms {
		for _, w := range Words(t) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}
