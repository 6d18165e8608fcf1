package sqlitestore

import (
	"strings"

	"github.com/engram-memory/engram/adapters/textfold"
)

// tenantText is the body FTS5 indexes: every folded word (textfold.Words)
// with the tenant prefix. Words are stemmed before the prefix is added, not
// by FTS5's porter tokenizer: that one saw the prefix as part of the word
// (migration 0281).
func tenantText(tok, text string, st textfold.Stems) string {
	words := st.Words(text)
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
