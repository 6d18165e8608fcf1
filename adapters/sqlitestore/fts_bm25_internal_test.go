package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// seedMemories stores texts as t's memories and indexes them, as the
// index maintainer does.
func seedMemories(t *testing.T, s *Store, x *TextIndex, tn domain.Tenant, texts []string) []domain.Memory {
	t.Helper()
	ctx := context.Background()
	ms := make([]domain.Memory, len(texts))
	docs := make([]ports.TextDoc, len(texts))
	for i, text := range texts {
		m, err := domain.NewMemory(tn, "app", text, nil, nil, time.Now())
		require.NoError(t, err)
		ms[i] = m
		docs[i] = ports.TextDoc{ID: m.ID, Text: m.Text, AppID: m.AppID, CreatedAt: m.CreatedAt, Hash: m.ContentHash}
	}
	_, err := s.CreateBatch(ctx, tn, ms)
	require.NoError(t, err)
	require.NoError(t, x.Index(ctx, tn, docs))
	return ms
}

// bm25Ref is what FTS5's bm25() gives the newest commonCap entries holding
// every word: the scores rankCommon must reproduce.
func bm25Ref(t *testing.T, x *TextIndex, tok string, words []string) map[int64]float64 {
	t.Helper()
	cs, err := x.ranked(context.Background(), `SELECT rowid, -bm25(search_fts) FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC LIMIT ?`,
		matchAll(tok, words), commonCap)
	require.NoError(t, err)
	out := map[int64]float64{}
	for _, c := range cs {
		out[c.rowid] = c.score
	}
	return out
}

func scoresOf(cs []ftsCand) map[int64]float64 {
	out := map[int64]float64{}
	for _, c := range cs {
		out[c.rowid] = c.score
	}
	return out
}

// TestCommonWordsScoreAsBM25 (issue 19): when every query word is common,
// the newest entries holding them all are scored here from cached
// document frequencies instead of by bm25(), which walked each word's
// whole posting list on every search. The scores must be bm25()'s, bit
// for bit, with repeated words, varied lengths and other tenants' entries
// in the table (FTS5 counts rows and tokens over the whole table), and
// again after writes.
func TestCommonWordsScoreAsBM25(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	defer s.Close()
	x := s.TextIndex()
	tn, other := domain.Tenant{OrgID: "o", UserID: "u"}, domain.Tenant{OrgID: "o", UserID: "v"}
	tok := tenantToken(tn)
	var texts, others []string
	for i := range 700 {
		text := fmt.Sprintf("memory %d: tea in the morning, topic %d", i, i%7)
		switch i % 5 {
		case 1:
			text += " and more tea, Tea again"
		case 2:
			text = strings.Repeat("long words here ", i%9) + text
		case 3:
			text += " mornings of topics"
		}
		texts = append(texts, text)
		others = append(others, fmt.Sprintf("tea %d for someone else", i))
	}
	seedMemories(t, s, x, tn, texts)
	seedMemories(t, s, x, other, others[:300])
	words := []string{"tea", "morn", "topic"}

	check := func(what string) {
		t.Helper()
		got, ok, err := x.rankCommon(ctx, tn, tok, words, nil)
		require.NoError(t, err)
		require.True(t, ok, what)
		require.Equal(t, bm25Ref(t, x, tok, words), scoresOf(got), what)
	}
	check("first search")
	known, _ := s.docFreqs.get(tok, words)
	require.Equal(t, map[string]int{"tea": 700, "morn": 700, "topic": 700}, known, "document frequencies are cached")
	check("from the cache")

	seedMemories(t, s, x, tn, []string{"tea tea tea in the morning on topic one", "topic"})
	seedMemories(t, s, x, other, others[300:])
	check("after writes to the tenant and to another")
}

// TestCommonWordsFallBackToBM25 covers the entries whose words cannot be
// counted here: no stored text (the index written without the store's
// memories), text that is not ASCII, text edited after it was indexed.
// Then the search ranks with bm25() as before.
func TestCommonWordsFallBackToBM25(t *testing.T) {
	ctx := context.Background()
	words := []string{"tea", "morn"}
	for name, setup := range map[string]func(s *Store, x *TextIndex, tn domain.Tenant){
		"no memory row": func(s *Store, x *TextIndex, tn domain.Tenant) {
			require.NoError(t, x.Index(ctx, tn, []ports.TextDoc{{ID: domain.NewMemoryID(time.Now()), Text: "tea in the morning", CreatedAt: time.Now()}}))
		},
		"not ASCII": func(s *Store, x *TextIndex, tn domain.Tenant) {
			seedMemories(t, s, x, tn, []string{"tea in the morning at the café"})
		},
		"edited since indexed": func(s *Store, x *TextIndex, tn domain.Tenant) {
			ms := seedMemories(t, s, x, tn, []string{"tea in the morning, edited"})
			_, err := s.w.ExecContext(ctx, `UPDATE memories SET text = 'tea tea tea in the morning' WHERE id = ?`, string(ms[0].ID))
			require.NoError(t, err)
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "engram.db")})
			require.NoError(t, err)
			defer s.Close()
			x := s.TextIndex()
			tn := domain.Tenant{OrgID: "o", UserID: "u"}
			seedMemories(t, s, x, tn, []string{"tea in the morning", "morning tea"})
			setup(s, x, tn)
			_, ok, err := x.rankCommon(ctx, tn, tenantToken(tn), words, nil)
			require.NoError(t, err)
			require.False(t, ok)
		})
	}
}

// TestCommonWordsFlagPhrasesAsFTS5: rankCommon flags the entries holding
// the query's phrase from their texts, as FTS5's phrase query over the
// candidates' rowids does, and Search lifts them above the rest.
func TestCommonWordsFlagPhrasesAsFTS5(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	defer s.Close()
	x := s.TextIndex()
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	tok := tenantToken(tn)
	var texts []string
	for i := range 600 {
		switch i % 4 {
		case 0:
			texts = append(texts, fmt.Sprintf("%d: red wine on the table", i))
		case 1:
			texts = append(texts, fmt.Sprintf("%d: wine, red and white, on a table", i))
		default:
			texts = append(texts, fmt.Sprintf("%d: the table wine was red", i))
		}
	}
	seedMemories(t, s, x, tn, texts)
	words, phrase := []string{"red", "wine"}, []string{"red", "wine"}
	cands, ok, err := x.rankCommon(ctx, tn, tok, words, phrase)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, cands, commonCap)
	in, err := x.rowids(ctx, matchExpr(tok, phrase, true), cands[len(cands)-1].rowid, cands[0].rowid)
	require.NoError(t, err)
	flagged := 0
	for _, c := range cands {
		require.Equal(t, in[c.rowid], c.phrase, "rowid %d", c.rowid)
		if c.phrase {
			flagged++
		}
	}
	require.Equal(t, commonCap/4, flagged)

	hits, err := x.Search(ctx, tn, "red wine", 100, domain.SearchFilter{})
	require.NoError(t, err)
	require.Len(t, hits, 100)
	holds := map[domain.MemoryID]bool{}
	for _, c := range cands {
		holds[c.id] = c.phrase
	}
	lifted := 0
	for lifted < len(hits) && holds[hits[lifted].ID] {
		lifted++
	}
	require.NotZero(t, lifted)
	for i, h := range hits[lifted:] {
		require.False(t, holds[h.ID], "hit %d holds the phrase below one that does not", lifted+i)
	}
}
