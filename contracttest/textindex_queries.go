package contracttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func runTextUnicode(t *testing.T, newIndex func(t *testing.T) ports.TextIndex) {
	t.Parallel()
	ctx := context.Background()
	x := newIndex(t)
	zurich, sushi, greek, emoji := newID(), newID(), newID(), newID()
	require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{
		tdoc(zurich, "Moved to Zürich for the Café Sprüngli job"),
		tdoc(sushi, "私は 寿司 が好き"),
		tdoc(greek, "Μαθαίνει ελληνικά"),
		tdoc(emoji, "Loves 🍕 pizza nights"),
	}))
	for q, want := range map[string]domain.MemoryID{
		"Zürich":   zurich,
		"zürich":   zurich,
		"ZÜRICH":   zurich,
		"zurich":   zurich, // accents fold
		"cafe":     zurich,
		"Café":     zurich,
		"寿司":       sushi,
		"ελληνικά": greek,
		"🍕 pizza":  emoji,
		"pizza🍕🍕🍕": emoji,
	} {
		hs, err := x.Search(ctx, vecAlice, q, 10, domain.SearchFilter{})
		require.NoError(t, err, q)
		require.Equal(t, []domain.MemoryID{want}, hitIDs(hs), "query %q", q)
	}
}

// hostileQueries are operators or wildcards of FTS5, tsquery, Lucene and
// LIKE. Each must be searched as plain text.
var hostileQueries = []string{
	`"`, `""`, `"unterminated`, `*`, `pi*`, `NEAR(`, `NEAR(a b)`, `OR`, `AND NOT`, `a AND NOT b`, `:`, `text:x`,
	`-x`, `^`, `(`, `)`, `'`, `\`, `%`, `_`, `!`, `&`, `|`, `<->`, `~`, `{`, `[`, `/`, `+`, `body:*`, "\t\n", `O'Brien`,
	`" OR 1=1 --`, `'); DROP TABLE memories; --`, `\"`, `NOT`, `a:*`, `''`, `%_%`,
}

func runTextHostile(t *testing.T, newIndex func(t *testing.T) ports.TextIndex) {
	t.Parallel()
	ctx := context.Background()
	x := newIndex(t)
	station, spot, brien, pct := newID(), newID(), newID(), newID()
	require.NoError(t, x.Index(ctx, vecAlice, []ports.TextDoc{
		tdoc(station, "meet me near the station"),
		tdoc(spot, "x marks the spot"),
		tdoc(brien, "Dinner with O'Brien on Tuesday"),
		tdoc(pct, "100% sure about the_underscore plan"),
	}))
	for _, q := range hostileQueries {
		hs, err := x.Search(ctx, vecAlice, q, 10, domain.SearchFilter{})
		require.NoError(t, err, "query %q", q)
		require.LessOrEqual(t, len(hs), 2, "query %q must not act as a wildcard matching everything", q)
	}
	for q, want := range map[string]domain.MemoryID{
		"NEAR(station":   station, // not FTS5's NEAR operator
		"station OR":     station, // a trailing OR is not an operator
		"-x marks":       spot,    // -x does not exclude x
		"O'Brien":        brien,
		"tuesday AND":    brien,
		`"spot`:          spot,
		"station^2":      station,
		"spot:":          spot,
		"(station)":      station,
		`spot\`:          spot,
		"100%":           pct,
		"the_underscore": pct,
	} {
		hs, err := x.Search(ctx, vecAlice, q, 10, domain.SearchFilter{})
		require.NoError(t, err, "query %q", q)
		require.NotEmpty(t, hs, "query %q", q)
		require.Equal(t, want, hs[0].ID, "query %q", q)
	}
	for _, q := range []string{"", "   ", `"*(^'\%_`} {
		hs, err := x.Search(ctx, vecAlice, q, 10, domain.SearchFilter{})
		require.NoError(t, err, "query %q", q)
		require.Empty(t, hs, "query %q has no words", q)
	}
}

func runTextFilters(t *testing.T, newIndex func(t *testing.T) ports.TextIndex) {
	t.Parallel()
	ctx := context.Background()
	x := newIndex(t)
	f, vdocs := newFilterFixture()
	// Longer text for later fixture members keeps the unfiltered order fixed.
	texts := []string{"pizza", "pizza tonight", "pizza tonight again", "pizza tonight again maybe", "pizza tonight again maybe later"}
	docs := make([]ports.TextDoc, len(vdocs))
	for i, d := range vdocs {
		docs[i] = ports.TextDoc{ID: d.ID, Text: texts[i], AppID: d.AppID, Categories: d.Categories, Metadata: d.Metadata, CreatedAt: d.CreatedAt}
	}
	require.NoError(t, x.Index(ctx, vecAlice, docs))
	hs, err := x.Search(ctx, vecAlice, "pizza", 10, domain.SearchFilter{})
	require.NoError(t, err)
	require.ElementsMatch(t, f.all(), hitIDs(hs))
	for _, c := range filterCases(f) {
		hs, err := x.Search(ctx, vecAlice, "pizza", 10, c.filter)
		require.NoError(t, err, c.name)
		require.ElementsMatch(t, c.want, hitIDs(hs), c.name)
	}
}
