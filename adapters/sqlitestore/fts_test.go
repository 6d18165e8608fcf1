package sqlitestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func openSearchStore(t *testing.T) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestTextIndexContract(t *testing.T) {
	contracttest.RunTextIndex(t, func(t *testing.T) ports.TextIndex { return openSearchStore(t).TextIndex() })
}

// TestPhraseFlagsNewCandidatesWhenManyHoldIt: the exact phrase lifts each
// ranked candidate that holds it, however many older entries hold it too.
// The phrase probe reads only the candidates' rowid range (issue 19);
// before, it read the first rankCap entries holding the phrase, oldest
// first, and a new entry beyond them lost its lift.
func TestPhraseFlagsNewCandidatesWhenManyHoldIt(t *testing.T) {
	ctx := context.Background()
	x := openSearchStore(t).TextIndex()
	tenant := domain.Tenant{OrgID: "o", UserID: "u"}
	now := time.Now()
	var old []ports.TextDoc
	for i := range 520 {
		old = append(old, ports.TextDoc{ID: domain.MemoryID(fmt.Sprintf("old-%04d", i)), Text: "red wine number " + strconv.Itoa(i), CreatedAt: now})
	}
	require.NoError(t, x.Index(ctx, tenant, old))
	phrase, scattered := domain.MemoryID("new-phrase"), domain.MemoryID("new-scattered")
	require.NoError(t, x.Index(ctx, tenant, []ports.TextDoc{
		{ID: scattered, Text: "wine red", CreatedAt: now},
		{ID: phrase, Text: "a red wine tasting at the old harbour with friends on sunday", CreatedAt: now},
	}))
	hits, err := x.Search(ctx, tenant, "red wine", 300, domain.SearchFilter{})
	require.NoError(t, err)
	rank := map[domain.MemoryID]int{}
	for i, h := range hits {
		rank[h.ID] = i
	}
	require.Contains(t, rank, phrase)
	require.Contains(t, rank, scattered)
	require.Less(t, rank[phrase], rank[scattered], "the entry holding the phrase ranks above the one holding its words apart")
}

func TestTextIndexTimeFilter(t *testing.T) {
	s := openSearchStore(t)
	contracttest.RunTextTimeFilter(t, s, s.TextIndex())
}
