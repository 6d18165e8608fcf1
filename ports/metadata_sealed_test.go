package ports_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestMetadataSealedValueByValue: every value is sealed (keys stay
// readable), opens to the same JSON type, and is bound to its memory and
// key; with no key a value that looks sealed is refused.
func TestMetadataSealedValueByValue(t *testing.T) {
	alice := domain.Tenant{OrgID: "acme", UserID: "alice"}
	k, _, _, err := ports.NewDataKey(context.Background(), plainWrapper{}, alice)
	require.NoError(t, err)
	md := domain.Metadata{"city": "zanzibar", "n": 3.5, "ok": true, "nil": nil, "list": []any{"a", 1.0}, "obj": map[string]any{"x": "y"}}
	sealed, err := ports.SealMetadata(k, "m1", md)
	require.NoError(t, err)
	require.Len(t, sealed, len(md))
	require.True(t, ports.MetadataSealed(sealed))
	raw, _ := json.Marshal(sealed)
	require.NotContains(t, string(raw), "zanzibar")
	for key, v := range sealed {
		s, _ := v.(string)
		require.True(t, ports.Sealed(s), "value of %q is sealed", key)
	}
	opened, err := ports.OpenMetadata(k, "m1", sealed)
	require.NoError(t, err)
	require.Equal(t, md, opened)

	_, err = ports.OpenMetadata(k, "m2", sealed)
	require.Error(t, err, "a value moved to another memory does not open")
	swapped := domain.Metadata{"city": sealed["n"]}
	_, err = ports.OpenMetadata(k, "m1", swapped)
	require.Error(t, err, "a value moved to another key does not open")
	_, err = ports.OpenMetadata(nil, "m1", sealed)
	require.ErrorIs(t, err, ports.ErrKeyDestroyed)

	plain, err := ports.SealMetadata(nil, "m1", md)
	require.NoError(t, err)
	require.Equal(t, md, plain, "encryption off stores the values as they are")
	_, err = ports.SealMetadata(nil, "m1", domain.Metadata{"x": ports.SealedPrefix + "AAAA"})
	require.ErrorIs(t, err, domain.ErrInvalid)
}

// TestOpenArchivedDropsMemoryWithSealedMetadata: a memory whose metadata
// is sealed (even with plaintext text) is restored only when its key opens
// it, like sealed text.
func TestOpenArchivedDropsMemoryWithSealedMetadata(t *testing.T) {
	ctx := context.Background()
	alice, bob := domain.Tenant{OrgID: "acme", UserID: "alice"}, domain.Tenant{OrgID: "acme", UserID: "bob"}
	k, _, _, err := ports.NewDataKey(ctx, plainWrapper{}, alice)
	require.NoError(t, err)
	kb, _, _, err := ports.NewDataKey(ctx, plainWrapper{}, bob)
	require.NoError(t, err)
	tb, ok := ports.ArchiveTableNamed("memories")
	require.True(t, ok)
	row := func(id, user string, dk *ports.DataKey) ports.ArchiveRow {
		md, err := ports.SealMetadata(dk, id, domain.Metadata{"city": "zanzibar"})
		require.NoError(t, err)
		raw, _ := json.Marshal(md)
		r := ports.ArchiveRow{Values: make([]any, len(tb.Columns))}
		r.Values[tb.Col("id")], r.Values[tb.Col("org_id")], r.Values[tb.Col("user_id")] = id, "acme", user
		r.Values[tb.Col("text")], r.Values[tb.Col("metadata")] = "plain text", json.RawMessage(raw)
		return r
	}
	rows := []ports.ArchiveRow{row("m1", "alice", k), row("m2", "bob", kb), row("m3", "alice", nil), row("m4", "alice", kb)}
	out, dropped, err := ports.OpenArchived(ctx, tb, rows, func(_ context.Context, tn domain.Tenant) (*ports.DataKey, error) {
		if tn == alice {
			return k, nil
		}
		return nil, nil // bob was erased
	})
	require.NoError(t, err)
	require.Equal(t, 2, dropped, "bob's row (key gone) and a row alice's key does not open")
	var ids []string
	for _, r := range out {
		ids = append(ids, r.Values[tb.Col("id")].(string))
	}
	require.Equal(t, []string{"m1", "m3"}, ids)
	require.Empty(t, out[0].SealedHash, "plaintext text keeps its plain hash")

	o := ports.NewRowOpener(func(context.Context, domain.Tenant) (*ports.DataKey, error) { return k, nil })
	r, err := o.Open(ctx, tb, out[0])
	require.NoError(t, err)
	require.Equal(t, `{"city":"zanzibar"}`, string(r.Values[tb.Col("metadata")].(json.RawMessage)))

	hb, _ := ports.ArchiveTableNamed("memory_history")
	md, _ := ports.SealMetadata(k, "m1", domain.Metadata{"city": "<zanzibar>"})
	snap, _ := json.Marshal(map[string]any{"text": k.Seal("m1", "text", "t"), "metadata": md})
	h := ports.ArchiveRow{Values: make([]any, len(hb.Columns))}
	h.Values[hb.Col("memory_id")], h.Values[hb.Col("org_id")], h.Values[hb.Col("user_id")] = "m1", "acme", "alice"
	h.Values[hb.Col("new_values")] = json.RawMessage(snap)
	h, err = o.Open(ctx, hb, h)
	require.NoError(t, err)
	got := string(h.Values[hb.Col("new_values")].(json.RawMessage))
	require.Equal(t, `{"metadata":{"city":"<zanzibar>"},"text":"t"}`, got)
	require.False(t, strings.Contains(got, "engram:v1"))
}
