package pgstore

import (
	"crypto/sha256"
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"

	"github.com/engram-memory/engram/domain"
)

// tenantPrefix is the prefix every indexed lexeme of (org, user) carries:
// 24 letters a-p spelling a hash of the tenant. Lexemes of different
// tenants are then different GIN keys, so a word's posting list holds one
// tenant's rows only — a common word costs what it costs in that tenant,
// not in the whole table — and ts_rank sees only the tenant's documents.
// Letters only, so PostgreSQL's parser keeps "prefix+word" one word token
// and the configuration's dictionaries (unaccent, stemmer) still apply.
func tenantPrefix(t domain.Tenant) string {
	sum := sha256.Sum256([]byte(string(t.OrgID) + "\x00" + string(t.UserID)))
	var b strings.Builder
	b.WriteByte('t')
	for _, c := range sum[:12] {
		b.WriteByte('a' + c>>4)
		b.WriteByte('a' + c&0x0f)
	}
	return b.String()
}

// foldWords splits text into lower-case, accent-folded words of letters
// and digits, in order, each reduced to its English Snowball stem
// ("adopted" and "adopting" → "adopt"); index and query sides both use it.
// Stemming here rather than in a text search configuration keeps the
// default configuration (engram_simple) language-neutral for everything
// else, and makes lexemes the same on every PostgreSQL. Migration 0061
// marks entries stemmed otherwise as stale, for Repair to rewrite.
func foldWords(text string) []string {
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

// prefixed joins words, each with the tenant prefix, by spaces.
func prefixed(prefix string, words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(prefix)
		b.WriteString(w)
	}
	return b.String()
}

// foldTerms folds query terms the way documents are folded, without
// duplicates.
func foldTerms(terms []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range terms {
		for _, w := range foldWords(t) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}
