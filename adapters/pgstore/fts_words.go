package pgstore

import (
	"crypto/sha256"
	"strings"

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

// prefixed joins words (textfold.Words), each with the tenant prefix, by
// spaces. Words are stemmed in Go rather than by a text search
// configuration: the default configuration (engram_simple) stays
// language-neutral for everything else, and lexemes are the same on every
// PostgreSQL. Migration 0061 marks entries stemmed otherwise as stale, for
// Repair to rewrite.
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
