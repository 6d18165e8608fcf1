package contracttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func tdoc(id domain.MemoryID, text string) ports.TextDoc {
	return ports.TextDoc{ID: id, Text: text, AppID: "app-one", Categories: []string{"misc"},
		Metadata: domain.Metadata{"kind": "fact"}, CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// RunTextIndex checks a ports.TextIndex. newIndex is called once per subtest
// and returns an empty index isolated from every other (its own database,
// schema or index name), cleaned up with t.Cleanup.
func RunTextIndex(t *testing.T, newIndex func(t *testing.T) ports.TextIndex) {
	ctx := context.Background()
	search := func(t *testing.T, x ports.TextIndex, tn domain.Tenant, q string) []domain.MemoryID {
		t.Helper()
		hs, err := x.Search(ctx, tn, q, 20, domain.SearchFilter{})
		require.NoError(t, err, "query %q", q)
		for i := 1; i < len(hs); i++ {
			require.GreaterOrEqual(t, hs[i-1].Score, hs[i].Score, "hits are best first")
		}
		return hitIDs(hs)
	}

	t.Run("Search/FindsWordsCaseInsensitive", func(t *testing.T) {
		t.Parallel()
		x := newIndex(t)
		hike, tax := newID(), newID()
		require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{
			tdoc(hike, "Alice loves hiking in the Dolomites every summer"),
			tdoc(tax, "The quarterly tax report is due on Friday"),
		}))
		require.Equal(t, []domain.MemoryID{hike}, search(t, x, vecAlice, "DOLOMITES"))
		require.Equal(t, []domain.MemoryID{tax}, search(t, x, vecAlice, "when is the tax report due?"))
		require.Empty(t, search(t, x, vecAlice, "volcano"))
	})

	t.Run("Search/StemsWithoutMergingShortWords", func(t *testing.T) {
		t.Parallel()
		x := newIndex(t)
		bed, red, sing, adopt := newID(), newID(), newID(), newID()
		require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{
			tdoc(bed, "We finally bought a new bed"),
			tdoc(red, "The car outside is red"),
			tdoc(sing, "Alice likes to sing in the choir"),
			tdoc(adopt, "Alice adopted a dog from the shelter"),
		}))
		// Other word forms meet at their stem ...
		require.Equal(t, []domain.MemoryID{adopt}, search(t, x, vecAlice, "adopting"))
		require.Equal(t, []domain.MemoryID{sing}, search(t, x, vecAlice, "singing"))
		// ... but short words keep their own: a stemmer that sees more
		// than the word (SQLite's porter behind the tenant prefix before
		// migration 0281) cut "bed" and "red" to the same nothing.
		require.Equal(t, []domain.MemoryID{bed}, search(t, x, vecAlice, "bed"))
		require.Equal(t, []domain.MemoryID{red}, search(t, x, vecAlice, "red"))
	})

	t.Run("Search/AnyWordMatchesMoreWordsRankHigher", func(t *testing.T) {
		t.Parallel()
		x := newIndex(t)
		both, one := newID(), newID()
		require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{
			tdoc(one, "Bob plays tennis on weekends"),
			tdoc(both, "Bob plays tennis with his sister Carla"),
		}))
		require.Equal(t, []domain.MemoryID{both, one}, search(t, x, vecAlice, "tennis sister"),
			"natural-language queries need not match every word")
	})

	t.Run("Search/ExactPhraseRanksFirst", func(t *testing.T) {
		t.Parallel()
		x := newIndex(t)
		phrase, scattered := newID(), newID()
		require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{
			tdoc(scattered, "wine glass, red"),
			tdoc(phrase, "she bought a red wine glass at the flea market yesterday afternoon near the old harbour"),
		}))
		require.Equal(t, []domain.MemoryID{phrase, scattered}, search(t, x, vecAlice, "red wine glass"))
	})

	t.Run("Index/ReplacesTextByID", func(t *testing.T) {
		t.Parallel()
		x := newIndex(t)
		id := newID()
		require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{tdoc(id, "favourite colour is turquoise")}))
		require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{tdoc(id, "favourite colour is magenta")}))
		require.Empty(t, search(t, x, vecAlice, "turquoise"), "the old text is gone")
		require.Equal(t, []domain.MemoryID{id}, search(t, x, vecAlice, "magenta"))
		require.Equal(t, []domain.MemoryID{id}, search(t, x, vecAlice, "colour"), "one entry per id")
	})

	t.Run("Index/RepeatedIDInOneCallLastWins", func(t *testing.T) {
		t.Parallel()
		x := newIndex(t)
		id := newID()
		require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{tdoc(id, "first walrus"), tdoc(id, "second narwhal")}))
		require.Equal(t, []domain.MemoryID{id}, search(t, x, vecAlice, "narwhal walrus"))
		require.Empty(t, search(t, x, vecAlice, "walrus"))
	})

	t.Run("Delete/Vanishes", func(t *testing.T) {
		t.Parallel()
		x := newIndex(t)
		keep, gone := newID(), newID()
		require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{tdoc(keep, "allergic to peanuts"), tdoc(gone, "allergic to cats")}))
		require.NoError(t, x.Delete(ctx, vecAlice, []domain.MemoryID{gone}))
		require.NoError(t, x.Delete(ctx, vecAlice, []domain.MemoryID{gone, newID()}), "deleting twice or unknown ids is fine")
		require.Equal(t, []domain.MemoryID{keep}, search(t, x, vecAlice, "allergic cats"))
	})

	t.Run("Tenancy/IdenticalTextNeverCrosses", func(t *testing.T) {
		t.Parallel()
		x := newIndex(t)
		mine := newID()
		const text = "the spare key is under the blue flowerpot"
		require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{tdoc(mine, text)}))
		require.NoError(t, x.Index(ctx, vecBob, []ports.TextDoc{tdoc(newID(), text)}))
		require.NoError(t, x.Index(ctx, vecMallory, []ports.TextDoc{tdoc(newID(), text)}))
		require.Equal(t, []domain.MemoryID{mine}, search(t, x, vecAlice, text))
		require.NoError(t, x.Delete(ctx, vecMallory, []domain.MemoryID{mine}))
		require.NoError(t, x.Delete(ctx, vecBob, []domain.MemoryID{mine}))
		require.Equal(t, []domain.MemoryID{mine}, search(t, x, vecAlice, "flowerpot"), "another tenant cannot delete it")
		require.Empty(t, search(t, x, domain.Tenant{OrgID: "org-c", UserID: "nobody"}, "flowerpot"))
	})

	t.Run("Search/KOutOfRangeIsInvalid", func(t *testing.T) {
		t.Parallel()
		x := newIndex(t)
		for _, k := range []int{0, ports.MaxIndexK + 1} {
			_, err := x.Search(ctx, vecAlice, "anything", k, domain.SearchFilter{})
			require.ErrorIs(t, err, domain.ErrInvalid, "k=%d", k)
		}
	})

	t.Run("Search/Unicode", func(t *testing.T) { runTextUnicode(t, newIndex) })
	t.Run("Search/HostileQueriesAreText", func(t *testing.T) { runTextHostile(t, newIndex) })
	t.Run("Search/Filters", func(t *testing.T) { runTextFilters(t, newIndex) })
}
