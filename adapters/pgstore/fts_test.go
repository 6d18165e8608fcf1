package pgstore_test

import (
	"context"
	"fmt"
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

// manyDocs returns n entries of text(i), oldest first.
func manyDocs(n int, text func(i int) string) []ports.TextDoc {
	docs := make([]ports.TextDoc, n)
	for i := range docs {
		docs[i] = ports.TextDoc{ID: domain.NewMemoryID(time.Now()), AppID: "a", Text: text(i), CreatedAt: time.Now()}
	}
	return docs
}

// TestSearchOfCommonWordsRanksTheNewestHoldingThem: when every query word
// is common (issue 19), the newest entries holding all of them are ranked,
// so a new entry holding the exact phrase comes first. Before, the
// candidates were the first 1,000 entries holding the words in the
// table's physical order, the oldest, and the new one was not among them.
func TestSearchOfCommonWordsRanksTheNewestHoldingThem(t *testing.T) {
	ctx := context.Background()
	x := newStore(t, pgstore.Options{}).TextIndex(pgstore.TextOptions{})
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	require.NoError(t, x.Index(ctx, tn, manyDocs(1100, func(i int) string { return fmt.Sprintf("wine, then red cherries, number %d", i) })))
	phrase := domain.NewMemoryID(time.Now())
	require.NoError(t, x.Index(ctx, tn, []ports.TextDoc{{ID: phrase, AppID: "a", Text: "a red wine tasting at the old harbour", CreatedAt: time.Now()}}))
	hits, err := x.Search(ctx, tn, "red wine", 10, domain.SearchFilter{})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	require.Equal(t, phrase, hits[0].ID, "the newest entry, holding the phrase, ranks first")
}

// TestSearchFindsARareWordBesideACommonOne: entries holding a rarer query
// word are candidates however many entries hold a common one. Before, the
// entries holding any word were the first 1,000 in physical order, all
// holding the common word, and the one holding the rare word was not
// among them.
func TestSearchFindsARareWordBesideACommonOne(t *testing.T) {
	ctx := context.Background()
	x := newStore(t, pgstore.Options{}).TextIndex(pgstore.TextOptions{})
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	require.NoError(t, x.Index(ctx, tn, manyDocs(1100, func(i int) string { return fmt.Sprintf("wine number %d", i) })))
	harbour := domain.NewMemoryID(time.Now())
	require.NoError(t, x.Index(ctx, tn, []ports.TextDoc{{ID: harbour, AppID: "a", Text: "we walked along the old harbour", CreatedAt: time.Now()}}))
	hits, err := x.Search(ctx, tn, "wine harbour", 10, domain.SearchFilter{})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	require.Equal(t, harbour, hits[0].ID)
}

func TestTextIndexTimeFilter(t *testing.T) {
	s := newStore(t, pgstore.Options{})
	contracttest.RunTextTimeFilter(t, s, s.TextIndex(pgstore.TextOptions{}))
}
