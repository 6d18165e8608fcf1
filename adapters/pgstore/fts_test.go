package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestTextIndexContract(t *testing.T) {
	contracttest.RunTextIndex(t, func(t *testing.T) ports.TextIndex {
		return newStore(t, pgstore.Options{}).TextIndex(pgstore.TextOptions{})
	})
}

func TestTextIndexContractEnglish(t *testing.T) {
	contracttest.RunTextIndex(t, func(t *testing.T) ports.TextIndex {
		return newStore(t, pgstore.Options{}).TextIndex(pgstore.TextOptions{Language: "english"})
	})
}

// TestTextIndexMatchesOtherWordForms: lexemes are Snowball stems (issue
// 14), so the default, language-neutral configuration still matches
// "adopting beagles" to "adopted a beagle".
func TestTextIndexMatchesOtherWordForms(t *testing.T) {
	ctx := context.Background()
	x := newStore(t, pgstore.Options{}).TextIndex(pgstore.TextOptions{})
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	want := domain.NewMemoryID(time.Now())
	require.NoError(t, x.Index(ctx, tn, []ports.TextDoc{
		{ID: want, AppID: "a", Text: "We adopted a beagle from the shelter", CreatedAt: time.Now()},
		{ID: domain.NewMemoryID(time.Now()), AppID: "a", Text: "The weather was lovely", CreatedAt: time.Now()},
	}))
	hits, err := x.Search(ctx, tn, "adopting beagles", 10, domain.SearchFilter{})
	require.NoError(t, err)
	require.Len(t, hits, 1)
	require.Equal(t, want, hits[0].ID)
}
