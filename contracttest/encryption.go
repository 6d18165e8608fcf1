package contracttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// EncryptionBackend is a store opened with encryption on (a
// ports.KeyWrapper and Encrypt set), and a way to read what it holds at rest.
type EncryptionBackend struct {
	Store ErasureBackend
	// AtRest returns the bytes the store keeps: the database file and its
	// WAL, or a plain-text dump of its tables.
	AtRest func(t *testing.T) []byte
}

// RunEncryptionAtRest checks crypto-shredding (docs/privacy.md, "Encryption
// at rest"): memory text and metadata values, history snapshots and
// query-log text are stored sealed with the user's data key and read back
// as plaintext; metadata filters still select exactly; exact duplicates are
// still found; erasure destroys the data key, once (a second erasure counts none),
// and leaves other users' keys.
func RunEncryptionAtRest(t *testing.T, newStore func(t *testing.T) EncryptionBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, EncryptionBackend)
	}{
		{"SealedAtRestPlainToReaders", testSealedAtRest},
		{"ErasureDestroysTheDataKey", testErasureDestroysKey},
		{"ScanSkipsCryptoErasedRows", testScanSkipsCryptoErased},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func testSealedAtRest(t *testing.T, b EncryptionBackend) {
	ctx := ctxFor(t)
	s := b.Store
	tn := domain.Tenant{OrgID: "org-enc", UserID: "alice"}
	ms := createTexts(t, s, tn, "app", "alice keeps zanzibarcanary in mind", "second thought")
	batch := []domain.Memory{memOf(t, tn, "app", "batchedquokkacanary one"), memOf(t, tn, "app", "batchedquokkacanary one")}
	n, err := s.CreateBatch(ctx, tn, batch)
	require.NoError(t, err)
	require.Equal(t, 1, n, "exact duplicates are found with encryption on")
	_, created, err := s.Create(ctx, tn, memOf(t, tn, "app", "alice keeps zanzibarcanary in mind"))
	require.NoError(t, err)
	require.False(t, created, "an exact duplicate of a sealed memory is found")
	_, err = s.Update(ctx, tn, ms[1].ID, "app", func(m *domain.Memory) error { m.Text = "updatedwombatcanary now"; return nil })
	require.NoError(t, err)
	_, err = s.SetState(ctx, tn, []domain.MemoryID{ms[1].ID}, domain.StatePaused, "app")
	require.NoError(t, err)

	got, err := s.Get(ctx, tn, ms[0].ID)
	require.NoError(t, err)
	require.Equal(t, "alice keeps zanzibarcanary in mind", got.Text)
	page, err := s.List(ctx, tn, domain.ListQuery{Limit: 10, States: []domain.State{domain.StateActive, domain.StatePaused}})
	require.NoError(t, err)
	texts := map[string]bool{}
	for _, m := range page.Items {
		texts[m.Text] = true
	}
	require.Equal(t, map[string]bool{"alice keeps zanzibarcanary in mind": true, "updatedwombatcanary now": true, "batchedquokkacanary one": true}, texts)
	hist, err := s.History(ctx, tn, ms[1].ID)
	require.NoError(t, err)
	require.Len(t, hist, 3)
	require.Equal(t, "second thought", hist[0].New.Text)
	require.Equal(t, "second thought", hist[1].Old.Text)
	require.Equal(t, "updatedwombatcanary now", hist[1].New.Text)
	require.Equal(t, "updatedwombatcanary now", hist[2].New.Text)

	// A search's words are the subject's too: the query log seals them.
	ql := queryLog(tn, time.Now().UTC().Truncate(time.Millisecond))
	ql.Query = "where did I hide the querycanaryotter"
	require.NoError(t, s.LogQuery(ctx, tn, ql))
	gotQ, err := s.GetQuery(ctx, tn, ql.ID)
	require.NoError(t, err)
	require.Equal(t, ql.Query, gotQ.Query)
	logged, _, err := s.ListQueries(ctx, tn.OrgID, time.Time{}, 10, "")
	require.NoError(t, err)
	require.Len(t, logged, 1)
	require.Equal(t, ql.Query, logged[0].Query)

	testSealedMetadata(t, s, tn)

	raw := b.AtRest(t)
	for _, word := range []string{"zanzibarcanary", "batchedquokkacanary", "updatedwombatcanary", "second thought", "querycanaryotter",
		"metacanarylemur", "metabatchcanaryibis", "metaupdatedcanarytapir", "metafirstcanaryokapi"} {
		require.False(t, bytes.Contains(raw, []byte(word)), "%q is stored in plaintext", word)
	}
	require.True(t, bytes.Contains(raw, []byte(ports.SealedPrefix)), "sealed values are at rest")
	// The content hash is keyed with the data key: the plain SHA-256 of a
	// guessed text confirms nothing, and the hash dies with the key.
	for _, text := range []string{"alice keeps zanzibarcanary in mind", "batchedquokkacanary one", "updatedwombatcanary now"} {
		require.False(t, bytes.Contains(raw, []byte(domain.ContentHash(text))), "the unkeyed content hash of %q is stored", text)
	}
	// Duplicate detection still works on keyed hashes: an update to another
	// active memory's text is a conflict.
	_, err = s.Update(ctx, tn, batch[0].ID, "app", func(m *domain.Memory) error { m.Text = "alice keeps zanzibarcanary in mind"; return nil })
	require.ErrorIs(t, err, domain.ErrConflict)
}

func testErasureDestroysKey(t *testing.T, b EncryptionBackend) {
	ctx := ctxFor(t)
	s := b.Store
	alice, bob := domain.Tenant{OrgID: "org-enc", UserID: "alice"}, domain.Tenant{OrgID: "org-enc", UserID: "bob"}
	createTexts(t, s, alice, "app", "alice one")
	kept := createTexts(t, s, bob, "app", "bob one")
	// The key the store lends the session store (ports.SessionKeys) is
	// the one memory text is sealed with, and dies with it.
	sk, lends := s.(ports.SessionKeys)
	require.True(t, lends, "a store with encryption lends its data keys to the session store")
	dk, err := sk.SealingKey(ctx, alice)
	require.NoError(t, err)
	require.NotNil(t, dk, "encryption on: session events are sealed")
	opening, err := sk.OpeningKey(ctx, alice)
	require.NoError(t, err)
	require.Same(t, dk, opening)
	got := eraseAll(t, s, domain.Subject(alice))
	require.EqualValues(t, 1, got[domain.StoreDataKeys], "the subject's data key is destroyed")
	dk, err = sk.OpeningKey(ctx, alice)
	require.NoError(t, err)
	require.Nil(t, dk, "an erased subject's session events open nowhere")
	dk, err = sk.OpeningKey(ctx, bob)
	require.NoError(t, err)
	require.NotNil(t, dk)
	again := eraseAll(t, s, domain.Subject(alice))
	require.Zero(t, again[domain.StoreDataKeys], "erasing twice destroys nothing more")
	m, err := s.Get(ctx, bob, kept[0].ID)
	require.NoError(t, err)
	require.Equal(t, "bob one", m.Text, "another user's key is kept")
	// The subject may come back: a fresh key seals its new memories.
	fresh := createTexts(t, s, alice, "app", "alice again")
	m, err = s.Get(ctx, alice, fresh[0].ID)
	require.NoError(t, err)
	require.Equal(t, "alice again", m.Text)
}

// testSealedMetadata writes metadata values that must not be at rest in
// plaintext (the caller checks the words) and reads them back as plaintext
// through Get, List, History and metadata filters, which must select over
// sealed values exactly as over plaintext ones.
func testSealedMetadata(t *testing.T, s ports.MemoryStore, tn domain.Tenant) {
	ctx := ctxFor(t)
	mk := func(text string, md domain.Metadata) domain.Memory {
		m, err := domain.NewMemory(tn, "app", text, md, nil, time.Now())
		require.NoError(t, err)
		return m
	}
	a := mustCreate(t, s, mk("metadata row one", domain.Metadata{"pet": "metacanarylemur", "n": 3, "ok": true}))
	upd := mustCreate(t, s, mk("metadata row two", domain.Metadata{"pet": "metafirstcanaryokapi", "n": 10.5}))
	n, err := s.CreateBatch(ctx, tn, []domain.Memory{mk("metadata row three", domain.Metadata{"pet": "metabatchcanaryibis", "n": -1, "ok": false})})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = s.Update(ctx, tn, upd.ID, "app", func(m *domain.Memory) error {
		m.Metadata = domain.Metadata{"pet": "metaupdatedcanarytapir", "n": 10.5, "nested": map[string]any{"k": []any{"v"}}}
		return nil
	})
	require.NoError(t, err)

	got, err := s.Get(ctx, tn, a.ID)
	require.NoError(t, err)
	require.Equal(t, domain.Metadata{"pet": "metacanarylemur", "n": 3.0, "ok": true}, got.Metadata)
	hist, err := s.History(ctx, tn, upd.ID)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, domain.Metadata{"pet": "metafirstcanaryokapi", "n": 10.5}, hist[1].Old.Metadata)
	require.Equal(t, domain.Metadata{"pet": "metaupdatedcanarytapir", "n": 10.5, "nested": map[string]any{"k": []any{"v"}}}, hist[1].New.Metadata)

	pets := func(q domain.ListQuery) []string {
		t.Helper()
		q.Limit = 1 // one row a page: the keyset loop must fill each page
		var out []string
		for _, m := range listAll(t, s, tn, q) {
			if p, ok := m.Metadata["pet"].(string); ok {
				out = append(out, p)
			}
		}
		slices.Sort(out)
		return out
	}
	where := func(raw string) *domain.Filter {
		t.Helper()
		var obj map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &obj))
		f, err := domain.ParseFilter(obj)
		require.NoError(t, err)
		return &f
	}
	require.Equal(t, []string{"metabatchcanaryibis", "metacanarylemur", "metaupdatedcanarytapir"}, pets(domain.ListQuery{}))
	require.Equal(t, []string{"metacanarylemur"}, pets(domain.ListQuery{Metadata: domain.Metadata{"pet": "metacanarylemur"}}))
	require.Equal(t, []string{"metacanarylemur"}, pets(domain.ListQuery{Metadata: domain.Metadata{"ok": true, "n": 3}}))
	require.Equal(t, []string{"metacanarylemur", "metaupdatedcanarytapir"}, pets(domain.ListQuery{Where: where(`{"metadata": {"n": {"gte": 3}}}`)}))
	require.Equal(t, []string{"metabatchcanaryibis", "metaupdatedcanarytapir"}, pets(domain.ListQuery{Where: where(`{"metadata": {"pet": {"ne": "metacanarylemur"}}}`)}))
	require.Equal(t, []string{"metaupdatedcanarytapir"}, pets(domain.ListQuery{Where: where(`{"metadata": {"pet": {"icontains": "TAPIR"}}}`)}))
	require.Equal(t, []string{"metabatchcanaryibis"}, pets(domain.ListQuery{Where: where(`{"NOT": [{"metadata": {"n": {"gt": 0}}}], "metadata": {"pet": {"in": ["metabatchcanaryibis", "metaupdatedcanarytapir"]}}, "app_id": "app"}`)}))
}

// testScanSkipsCryptoErased destroys a user's data key while their
// memories are still there (an erasure between its key step and its
// memory step, or a write sealed elsewhere with a key cached before it was
// destroyed): a scan of the org for an index load skips them and returns
// the other users' memories, past whole pages of them, instead of failing
// the load for every tenant.
func testScanSkipsCryptoErased(t *testing.T, b EncryptionBackend) {
	ctx := ctxFor(t)
	s := b.Store
	sc, ok := s.(ports.MemoryScanner)
	require.True(t, ok, "the store scans for index loads")
	org := domain.OrgID("org-scan-shred")
	alice, bob := domain.Tenant{OrgID: org, UserID: "alice"}, domain.Tenant{OrgID: org, UserID: "bob"}
	var texts []string
	for i := range 7 {
		texts = append(texts, fmt.Sprintf("alice %d", i))
	}
	createTexts(t, s, alice, "app", texts...)
	kept := createTexts(t, s, bob, "app", "bob one", "bob two")
	_, err := s.EraseSubjectData(ctx, domain.Subject(alice)) // the key, not the memories
	require.NoError(t, err)
	var got []string
	after := domain.MemoryID("")
	for {
		page, err := sc.ScanActive(ctx, org, after, 2) // pages of alice's rows only, too
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			got = append(got, m.Text)
		}
		after = page[len(page)-1].ID
	}
	require.ElementsMatch(t, []string{"bob one", "bob two"}, got)
	for _, m := range kept {
		_, err := s.Get(ctx, bob, m.ID)
		require.NoError(t, err)
	}
}
