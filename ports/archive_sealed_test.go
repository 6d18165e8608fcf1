package ports_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestRowOpenerOpensEverySealedColumn: the subject's own export
// (ArchiveScope.Open) carries plaintext for every column a store seals,
// history snapshots' text included, and a sealed value without a key is an
// error rather than noise in the archive.
func TestRowOpenerOpensEverySealedColumn(t *testing.T) {
	ctx := context.Background()
	alice := domain.Tenant{OrgID: "acme", UserID: "alice"}
	k, _, _, err := ports.NewDataKey(ctx, plainWrapper{}, alice)
	require.NoError(t, err)
	calls := 0
	o := ports.NewRowOpener(func(_ context.Context, tn domain.Tenant) (*ports.DataKey, error) {
		calls++
		if tn == alice {
			return k, nil
		}
		return nil, nil
	})
	row := func(table string, vals map[string]any) (ports.ArchiveTable, ports.ArchiveRow) {
		tb, ok := ports.ArchiveTableNamed(table)
		require.True(t, ok)
		r := ports.ArchiveRow{Values: make([]any, len(tb.Columns))}
		for c, v := range vals {
			r.Values[tb.Col(c)] = v
		}
		return tb, r
	}
	tb, r := row("memories", map[string]any{"id": "m1", "org_id": "acme", "user_id": "alice", "text": k.Seal("m1", "text", "tea <3 & cake")})
	r, err = o.Open(ctx, tb, r)
	require.NoError(t, err)
	require.Equal(t, "tea <3 & cake", r.Values[tb.Col("text")])

	old, _ := json.Marshal(map[string]any{"text": k.Seal("m1", "text", "first"), "categories": []string{"x"}})
	tb, r = row("memory_history", map[string]any{"memory_id": "m1", "org_id": "acme", "user_id": "alice",
		"old_values": json.RawMessage(old), "new_values": json.RawMessage(`{"text":"plain <b>"}`)})
	r, err = o.Open(ctx, tb, r)
	require.NoError(t, err)
	require.JSONEq(t, `{"categories":["x"],"text":"first"}`, string(r.Values[tb.Col("old_values")].(json.RawMessage)))
	require.Equal(t, `{"text":"plain <b>"}`, string(r.Values[tb.Col("new_values")].(json.RawMessage)), "plaintext passes unchanged")

	tb, r = row("query_logs", map[string]any{"id": "q1", "org_id": "acme", "user_id": "alice", "query": k.Seal("q1", "query", "where is my cat")})
	r, err = o.Open(ctx, tb, r)
	require.NoError(t, err)
	require.Equal(t, "where is my cat", r.Values[tb.Col("query")])
	require.Equal(t, 1, calls, "one key lookup per subject")

	tb, r = row("memories", map[string]any{"id": "m2", "org_id": "acme", "user_id": "bob", "text": k.Seal("m2", "text", "x")})
	_, err = o.Open(ctx, tb, r)
	require.True(t, errors.Is(err, ports.ErrKeyDestroyed), "a sealed value whose key is gone: %v", err)
}
