package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestTermCountsForgetWinsOverAnOlderProbe(t *testing.T) {
	var c termCounts
	_, gen := c.get("t1", []string{"a"})
	c.forget("t1") // a write lands while the probe runs
	c.put("t1", gen, map[string]int{"a": 3})
	known, _ := c.get("t1", []string{"a"})
	require.Empty(t, known, "a count probed before a write is not kept")

	_, gen = c.get("t1", []string{"a"})
	c.put("t1", gen, map[string]int{"a": 3})
	known, _ = c.get("t1", []string{"a", "b"})
	require.Equal(t, map[string]int{"a": 3}, known)
	c.forget("t2")
	known, _ = c.get("t1", []string{"a"})
	require.Equal(t, map[string]int{"a": 3}, known, "another tenant's write keeps this tenant's counts")
}

// TestRareWordsSeesWritesAfterCaching: a word counted rare, then written
// into more than rankCap entries, is common on the next search.
func TestRareWordsSeesWritesAfterCaching(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	defer s.Close()
	x := s.TextIndex()
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	tok := tenantToken(tn)
	doc := func(text string) ports.TextDoc {
		return ports.TextDoc{ID: domain.NewMemoryID(time.Now()), AppID: "a", Text: text, CreatedAt: time.Now()}
	}
	require.NoError(t, x.Index(ctx, tn, []ports.TextDoc{doc("zebra crossing")}))
	rare, err := x.rareWords(ctx, tok, []string{"zebra", "crossing"})
	require.NoError(t, err)
	require.Equal(t, []string{"zebra", "crossing"}, rare)
	known, _ := x.s.counts.get(tok, []string{"zebra"})
	require.Equal(t, map[string]int{"zebra": 1}, known, "the probe is cached")

	docs := make([]ports.TextDoc, rankCap+1)
	for i := range docs {
		docs[i] = doc(fmt.Sprintf("zebra number %d", i))
	}
	require.NoError(t, x.Index(ctx, tn, docs))
	rare, err = x.rareWords(ctx, tok, []string{"zebra", "crossing"})
	require.NoError(t, err)
	require.Equal(t, []string{"crossing"}, rare, "zebra is common now")
}

// TestTermCountsAreSharedByTheStoresIndexes: the indexer and the search
// service may hold different TextIndex values of one store; a write
// through one must reach the other's searches.
func TestTermCountsAreSharedByTheStoresIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	defer s.Close()
	writer, reader := s.TextIndex(), s.TextIndex()
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	tok := tenantToken(tn)
	_, err = reader.rareWords(ctx, tok, []string{"zebra"})
	require.NoError(t, err)
	docs := make([]ports.TextDoc, rankCap+1)
	for i := range docs {
		docs[i] = ports.TextDoc{ID: domain.NewMemoryID(time.Now()), AppID: "a", Text: fmt.Sprintf("zebra %d", i), CreatedAt: time.Now()}
	}
	require.NoError(t, writer.Index(ctx, tn, docs))
	rare, err := reader.rareWords(ctx, tok, []string{"zebra"})
	require.NoError(t, err)
	require.Empty(t, rare)
}

// TestTermCountsExpire: with maxAge set (the document frequencies'), a
// tenant's counts are dropped once older, the only way this process sees
// another process's writes to the file.
func TestTermCountsExpire(t *testing.T) {
	c := termCounts{maxAge: 20 * time.Millisecond}
	_, gen := c.get("t1", []string{"a"})
	c.put("t1", gen, map[string]int{"a": 3})
	known, _ := c.get("t1", []string{"a"})
	require.Equal(t, map[string]int{"a": 3}, known)
	time.Sleep(30 * time.Millisecond)
	known, gen = c.get("t1", []string{"a"})
	require.Empty(t, known, "expired")
	c.put("t1", gen, map[string]int{"a": 4})
	known, _ = c.get("t1", []string{"a"})
	require.Equal(t, map[string]int{"a": 4}, known, "counted again")
}
