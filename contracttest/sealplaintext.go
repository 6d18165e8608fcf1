package contracttest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// SealStore is what the plaintext-sealing suite writes and reads through.
type SealStore interface {
	ports.MemoryStore
	ports.QueryLog
	ports.FeedbackStore
	ports.UISessionStore
	ports.PlaintextSealer
}

// SealBackend is one database opened twice: Plain without a
// key-encryption key (as a store was before encryption was turned on) and
// Sealed with one and encryption on.
type SealBackend struct {
	Plain, Sealed SealStore
	// AtRest returns the bytes the store keeps (the database file and its
	// WAL, or a plain-text dump of its tables), after Compact when set.
	AtRest  func(t *testing.T) []byte
	Compact func(ctx context.Context) error
}

// RunPlaintextSealer checks ports.PlaintextSealer (`engram keys seal`):
// rows written with encryption off are sealed in place, in batches, and
// read back as written; the content hash becomes the keyed one except where
// an exact duplicate holds it; a second run seals nothing; a store without
// a key-encryption key refuses.
func RunPlaintextSealer(t *testing.T, newBackend func(t *testing.T) SealBackend) {
	t.Run("SealsWhatEncryptionOffWrote", func(t *testing.T) {
		t.Parallel()
		testSealPlaintext(t, newBackend(t))
	})
}

func testSealPlaintext(t *testing.T, b SealBackend) {
	ctx := ctxFor(t)
	alice, bob := domain.Tenant{OrgID: "org-seal", UserID: "alice"}, domain.Tenant{OrgID: "org-seal", UserID: "bob"}
	_, err := b.Plain.SealPlaintext(ctx, 10, nil)
	require.ErrorIs(t, err, domain.ErrInvalid, "no key-encryption key: refused")

	// Encryption off: everything plaintext.
	ms := createTexts(t, b.Plain, alice, "app", "sealoldcanaryemu first", "sealothercanarymole")
	_, err = b.Plain.Update(ctx, alice, ms[0].ID, "app", func(m *domain.Memory) error {
		m.Text, m.Metadata = "sealnewcanaryyak second", domain.Metadata{"where": "sealmetacanaryauk", "n": 7}
		return nil
	})
	require.NoError(t, err)
	createTexts(t, b.Plain, bob, "app", "sealdupcanarygnu")
	ql := queryLog(alice, time.Now().UTC().Truncate(time.Millisecond))
	ql.Query = "sealquerycanaryelk"
	require.NoError(t, b.Plain.LogQuery(ctx, alice, ql))
	ui := domain.UISession{IDHash: domain.ContentHash("seal-session"), OrgID: alice.OrgID, UserID: alice.UserID, Access: "sealaccesscanaryowl", Refresh: "sealrefreshcanarybat",
		AccessExpiresAt: time.Now().Add(time.Hour), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(24 * time.Hour)}
	require.NoError(t, b.Plain.PutUISession(ctx, ui, 0))
	// Encryption on: bob writes the same text again. Its keyed hash differs
	// from the plain one, so it is a second memory, which keeps the first
	// from taking the keyed hash (it keeps its plain one).
	_, created, err := b.Sealed.Create(ctx, bob, memOf(t, bob, "app", "sealdupcanarygnu"))
	require.NoError(t, err)
	require.True(t, created)

	var progress []ports.SealCount
	counts, err := b.Sealed.SealPlaintext(ctx, 2, func(c ports.SealCount) { progress = append(progress, c) })
	require.NoError(t, err)
	require.Equal(t, []ports.SealCount{
		{Table: "memories", Read: 4, Sealed: 3, Rehashed: 2, Kept: 1},
		{Table: "memory_changes", Read: 5, Sealed: 4},
		{Table: "query_logs", Read: 1, Sealed: 1},
		{Table: "ui_sessions", Read: 1, Sealed: 1},
	}, counts)
	require.Greater(t, len(progress), len(counts), "progress after every batch")
	raw := atRest(t, b)
	for _, word := range []string{"sealoldcanaryemu", "sealothercanarymole", "sealnewcanaryyak", "sealmetacanaryauk", "sealdupcanarygnu",
		"sealquerycanaryelk", "sealaccesscanaryowl", "sealrefreshcanarybat"} {
		require.False(t, bytes.Contains(raw, []byte(word)), "%q is still stored in plaintext", word)
	}
	for _, text := range []string{"sealnewcanaryyak second", "sealothercanarymole"} {
		require.False(t, bytes.Contains(raw, []byte(domain.ContentHash(text))), "the plain content hash of %q is stored", text)
	}
	require.True(t, bytes.Contains(raw, []byte(domain.ContentHash("sealdupcanarygnu"))), "the duplicate keeps its plain hash")

	// Readers open what was sealed.
	got, err := b.Sealed.Get(ctx, alice, ms[0].ID)
	require.NoError(t, err)
	require.Equal(t, "sealnewcanaryyak second", got.Text)
	require.Equal(t, domain.Metadata{"where": "sealmetacanaryauk", "n": 7.0}, got.Metadata)
	hist, err := b.Sealed.History(ctx, alice, ms[0].ID)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, "sealoldcanaryemu first", hist[0].New.Text)
	require.Equal(t, "sealoldcanaryemu first", hist[1].Old.Text)
	require.Equal(t, domain.Metadata{"where": "sealmetacanaryauk", "n": 7.0}, hist[1].New.Metadata)
	gotQ, err := b.Sealed.GetQuery(ctx, alice, ql.ID)
	require.NoError(t, err)
	require.Equal(t, ql.Query, gotQ.Query)
	gotUI, err := b.Sealed.GetUISession(ctx, ui.IDHash, time.Now())
	require.NoError(t, err)
	require.Equal(t, [2]string{ui.Access, ui.Refresh}, [2]string{gotUI.Access, gotUI.Refresh})
	_, created, err = b.Sealed.Create(ctx, alice, memOf(t, alice, "app", "sealothercanarymole"))
	require.NoError(t, err)
	require.False(t, created, "an exact duplicate of a rehashed memory is found")

	// A second run seals nothing and rewrites nothing.
	before := atRest(t, b)
	counts, err = b.Sealed.SealPlaintext(ctx, 500, nil)
	require.NoError(t, err)
	require.Equal(t, []ports.SealCount{
		{Table: "memories", Read: 4, Kept: 1},
		{Table: "memory_changes", Read: 5},
		{Table: "query_logs", Read: 1},
		{Table: "ui_sessions", Read: 1},
	}, counts)
	require.Equal(t, before, atRest(t, b), "the second run wrote nothing")
}

// atRest is b's bytes at rest, compacted first when b can be (the WAL
// holds old page images until a checkpoint). A busy WAL (a pooled reader
// of either store still on an old snapshot) is ErrUnavailable: the
// compaction is tried again, as the erasure job does.
func atRest(t *testing.T, b SealBackend) []byte {
	t.Helper()
	if b.Compact != nil {
		var err error
		for range 50 {
			if err = b.Compact(ctxFor(t)); err == nil || !errors.Is(err, domain.ErrUnavailable) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		require.NoError(t, err)
	}
	return b.AtRest(t)
}
