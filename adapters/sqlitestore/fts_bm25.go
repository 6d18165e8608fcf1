package sqlitestore

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/engram-memory/engram/adapters/textfold"
	"github.com/engram-memory/engram/domain"
)

// docFreqMaxAge bounds how long a tenant's document frequencies are kept.
// This process forgets them on its own writes to the tenant; another
// process writing the same file is only seen once they expire, and until
// then the common-word ranking weighs words by slightly stale counts.
const docFreqMaxAge = 30 * time.Second

// forgetCounts drops t's cached counts after a write to its entries.
func (s *Store) forgetCounts(tok string) {
	s.counts.forget(tok)
	s.docFreqs.forget(tok)
}

// rankCommon scores the newest commonCap entries holding every word with
// FTS5's BM25, computed here rather than by bm25() (issue 19). bm25()
// counts each word's entries by walking the word's whole posting list on
// every search, and when every word is common that is most of the
// tenant's entries, once per word: about 10 ms a search at 100,000
// memories. Here the counts are cached per tenant until its next write,
// and the rest of the formula comes from what FTS5 itself reads: the
// table's row and token totals (its averages record), each entry's length
// (its docsize table) and each word's occurrences in the entry, counted
// in the memory's text. The scores are bm25()'s, operation for operation.
//
// ok is false when an entry's words cannot be counted here exactly: its
// memory is not in this store, its text is not ASCII (FTS5's tokenizer
// folds some letters that textfold keeps), or its text is not the text
// indexed (drift, by hash and length). The caller then ranks with bm25().
//
// With a phrase (its words ASCII), each candidate's phrase flag is set
// from its text too, instead of by an FTS5 phrase query over the
// candidates' rowid range.
func (x *TextIndex) rankCommon(ctx context.Context, t domain.Tenant, tok string, words, phrase []string) (_ []ftsCand, ok bool, err error) {
	if !ascii(words) {
		return nil, false, nil
	}
	cands, err := x.ranked(ctx, `SELECT rowid, 0.0 FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC LIMIT ?`,
		matchAll(tok, words), commonCap)
	if err != nil || len(cands) == 0 {
		return nil, err == nil, err
	}
	rows, tokens, err := x.corpusTotals(ctx)
	if err != nil || rows <= 0 {
		return nil, false, err
	}
	idf, err := x.idf(ctx, tok, words, rows)
	if err != nil {
		return nil, false, err
	}
	avgdl := float64(tokens) / float64(rows)
	ok, err = x.scoreCommon(ctx, t, cands, words, phrase, idf, avgdl)
	if err != nil || !ok {
		return nil, false, err
	}
	return cands, true, nil
}

// corpusTotals reads what FTS5's xRowCount and xColumnTotalSize read: the
// averages record (rowid 1 of search_fts_data), the table's row count and
// its token count, as varints.
func (x *TextIndex) corpusTotals(ctx context.Context) (rows, tokens int64, err error) {
	r, err := x.query(ctx, `SELECT block FROM search_fts_data WHERE id = 1`)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	var block []byte
	if r.Next() {
		if err := r.Scan(&block); err != nil {
			return 0, 0, err
		}
	}
	if err := r.Err(); err != nil {
		return 0, 0, err
	}
	n, i := sqliteVarint(block)
	if i == 0 {
		return 0, 0, nil
	}
	tk, j := sqliteVarint(block[i:])
	if j == 0 {
		return 0, 0, nil
	}
	return int64(n), int64(tk), nil
}

// idf is bm25()'s weight of each word: log((N - n + 0.5) / (n + 0.5)),
// floored at 1e-6, N being the table's rows (every tenant's) and n the
// tenant's entries holding the word, counted once until the tenant's next
// write.
func (x *TextIndex) idf(ctx context.Context, tok string, words []string, rows int64) ([]float64, error) {
	known, gen := x.s.docFreqs.get(tok, words)
	counted := map[string]int{}
	out := make([]float64, len(words))
	for i, w := range words {
		n, ok := known[w]
		if !ok {
			r, err := x.query(ctx, `SELECT count(*) FROM search_fts WHERE search_fts MATCH ?`, matchExpr(tok, []string{w}, false))
			if err != nil {
				return nil, err
			}
			if r.Next() {
				err = r.Scan(&n)
			}
			if err == nil {
				err = r.Err()
			}
			_ = r.Close()
			if err != nil {
				return nil, err
			}
			counted[w] = n
		}
		v := math.Log((float64(rows-int64(n)) + 0.5) / (float64(n) + 0.5))
		if v <= 0 {
			v = 1e-06
		}
		out[i] = v
	}
	if len(counted) > 0 {
		x.s.docFreqs.put(tok, gen, counted)
	}
	return out, nil
}

// scoreCommon sets each candidate's score and memory id, reading the
// memory's text and the entry's length. false when an entry cannot be
// scored exactly (see rankCommon).
func (x *TextIndex) scoreCommon(ctx context.Context, t domain.Tenant, cands []ftsCand, words, phrase []string, idf []float64, avgdl float64) (bool, error) {
	ids := make([]int64, len(cands))
	at := make(map[int64]int, len(cands))
	for i, c := range cands {
		ids[i] = c.rowid
		at[c.rowid] = i
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return false, err
	}
	rows, err := x.query(ctx, `SELECT d.rowid, d.memory_id, d.content_hash, m.text, z.sz
		FROM json_each(?) AS j CROSS JOIN search_docs d ON d.rowid = j.value
		JOIN memories m ON m.id = d.memory_id AND m.org_id = d.org_id AND m.user_id = d.user_id
		JOIN search_fts_docsize z ON z.id = d.rowid
		WHERE d.org_id = ? AND d.user_id = ?`, string(list), t.OrgID, t.UserID)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	const k1, b = 1.2, 0.75
	tf := make([]int, len(words))
	stems := textfold.Stems{} // this search's only: it holds the texts' words
	seen := 0
	for rows.Next() {
		var (
			rowid      int64
			id, hash   string
			text       string
			sizeRecord []byte
		)
		if err := rows.Scan(&rowid, &id, &hash, &text, &sizeRecord); err != nil {
			return false, err
		}
		text, err := x.s.openText(ctx, x.s.r, t, domain.MemoryID(id), text)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return false, err
			}
			return false, nil // unreadable here; bm25() needs no text
		}
		size, n := sqliteVarint(sizeRecord)
		if n == 0 || domain.ContentHash(text) != hash {
			return false, nil
		}
		tokens, isASCII := stems.CountASCII(text, words, tf)
		if !isASCII || uint64(tokens) != size {
			return false, nil
		}
		// bm25()'s arithmetic (fts5_aux.c), the same operations in the
		// same order; the conversions keep the compiler from fusing any.
		D := float64(int32(size))
		score := 0.0
		for i, f := range tf {
			freq := float64(f)
			score = score + float64(idf[i]*(float64(freq*(k1+1))/(freq+float64(k1*(1-b+float64(b*D)/avgdl)))))
		}
		c := &cands[at[rowid]]
		c.score, c.id = score, domain.MemoryID(id)
		if phrase != nil {
			c.phrase, _ = stems.HoldsPhraseASCII(text, phrase)
		}
		seen++
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	return seen == len(cands), nil
}

// sqliteVarint decodes SQLite's varint (FTS5 records use it): big-endian
// groups of 7 bits, the high bit set on all but the last, the ninth byte
// whole. n is 0 when p holds no complete varint.
func sqliteVarint(p []byte) (v uint64, n int) {
	for i := 0; i < len(p) && i < 9; i++ {
		if i == 8 {
			return v<<8 | uint64(p[i]), 9
		}
		v = v<<7 | uint64(p[i]&0x7f)
		if p[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// ascii reports whether every word is ASCII, which is what textfold's
// ASCII counters and FTS5's tokenizer see alike.
func ascii(words []string) bool {
	for _, w := range words {
		for i := range len(w) {
			if w[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}
