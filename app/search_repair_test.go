package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/keywrap"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestRepairHealsDriftLeftByACrash writes through the store alone, as if the
// process died between each commit and its index write, then repairs.
func TestRepairHealsDriftLeftByACrash(t *testing.T) {
	ctx := context.Background()
	e := newSearchEnv(t)
	tn := sAlice.Tenant()
	updated := e.add(t, sAlice, "Favourite tea is oolong")
	deleted := e.add(t, sAlice, "Owns a red kayak")

	missing, err := domain.NewMemory(tn, "app", "Learning to play the theremin", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = e.store.Create(ctx, tn, missing)
	require.NoError(t, err)
	_, err = e.store.Update(ctx, tn, updated.ID, "app", func(m *domain.Memory) error {
		m.Text = "Favourite tea is sencha"
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.store.Delete(ctx, tn, []domain.MemoryID{deleted.ID}, "app"))

	require.Len(t, driftOf(t, e.store.TextIndex(), tn.OrgID), 3, "missing, stale and no-longer-active entries")

	n, err := e.indexer.Repair(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Empty(t, driftOf(t, e.store.TextIndex(), tn.OrgID))

	lex := func(q string) []domain.MemoryID {
		return resultIDs(e.find(t, sAlice, app.SearchRequest{Query: q, Mode: domain.SearchLexical}))
	}
	require.Equal(t, []domain.MemoryID{missing.ID}, lex("theremin"))
	require.Equal(t, []domain.MemoryID{updated.ID}, lex("sencha"))
	require.Empty(t, lex("oolong"))
	require.Empty(t, lex("kayak"))
	require.Equal(t, missing.ID, e.find(t, sAlice, app.SearchRequest{Query: "theremin", Mode: domain.SearchVector}).Results[0].Memory.ID,
		"repaired memories reach the vector index too")
}

// A commit the service never saw (the client's deadline ended after COMMIT)
// sends no change notice; the repair loop finds it while serving.
func TestKeepRepairedIndexesCommitsNobodyNotified(t *testing.T) {
	e := newSearchEnv(t)
	tn := sAlice.Tenant()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.indexer.KeepRepaired(ctx, 20*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })

	hidden, err := domain.NewMemory(tn, "app", "Keeps bees on the roof", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = e.store.Create(context.Background(), tn, hidden)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		res := e.find(t, sAlice, app.SearchRequest{Query: "bees", Mode: domain.SearchLexical})
		return len(res.Results) == 1 && res.Results[0].Memory.ID == hidden.ID
	}, 20*time.Second, 20*time.Millisecond, "the loop indexed it without a restart")
}

// The retry of a write whose first answer was lost is a duplicate; it
// indexes the memory the first attempt stored but never indexed.
func TestDuplicateAddIndexesWhatTheFirstAttemptDidNot(t *testing.T) {
	e := newSearchEnv(t)
	tn := sAlice.Tenant()
	first, err := domain.NewMemory(tn, domain.DefaultApp, "Collects vintage typewriters", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = e.store.Create(context.Background(), tn, first)
	require.NoError(t, err)
	m, created, err := e.mem.Add(context.Background(), sAlice, app.AddInput{Text: "Collects vintage typewriters"})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first.ID, m.ID)
	res := e.find(t, sAlice, app.SearchRequest{Query: "typewriters", Mode: domain.SearchLexical})
	require.Equal(t, []domain.MemoryID{first.ID}, resultIDs(res))
}

// lateCommit fails every Create with an outage before writing: the write
// then commits later (the test writes it), after the service's look-up
// gave up, as when a frozen store thaws.
type lateCommit struct{ ports.MemoryStore }

func (lateCommit) Create(context.Context, domain.Tenant, domain.Memory) (domain.Memory, bool, error) {
	return domain.Memory{}, false, &domain.UnavailableError{Dependency: "postgres", Err: errors.New("i/o timeout")}
}

// Between full passes the repair loop repairs only the orgs a write with
// an unknown outcome touched (one anti-join per org for thousands of orgs
// every few seconds is not cheap): a late commit in such an org is
// indexed by the next tick, drift in an org nobody suspects waits for the
// next full pass.
func TestKeepRepairedRepairsTheOrgsOfUnknownOutcomesFirst(t *testing.T) {
	e := newSearchEnv(t)
	ctx := context.Background()
	ix := app.NewIndexer(app.IndexerDeps{Memories: e.store, Scanner: e.store, Text: e.store.TextIndex(), FullRepairEvery: 1 << 30})
	svc := app.NewMemoryService(app.MemoryDeps{Memories: lateCommit{e.store}, Apps: e.store, Access: e.store, Outcomes: ix})
	t.Cleanup(svc.Close)
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ix.KeepRepaired(lctx, 20*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })

	other := domain.Principal{OrgID: "org-unsuspected", UserID: "u", Scopes: domain.DefaultUserScopes}
	unseen, err := domain.NewMemory(other.Tenant(), "app", "Collects vintage typewriters", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = e.store.Create(ctx, other.Tenant(), unseen)
	require.NoError(t, err)

	_, _, err = svc.Add(ctx, sAlice, app.AddInput{Text: "Sails a catamaran on weekends"})
	require.ErrorIs(t, err, domain.ErrUnavailable, "the look-up did not find it: the outcome is unknown")
	late, err := domain.NewMemory(sAlice.Tenant(), "app", "Sails a catamaran on weekends", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = e.store.Create(ctx, sAlice.Tenant(), late) // the late commit
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		res := e.find(t, sAlice, app.SearchRequest{Query: "catamaran", Mode: domain.SearchLexical})
		return len(res.Results) == 1
	}, 20*time.Second, 20*time.Millisecond, "the suspect org was repaired")
	time.Sleep(100 * time.Millisecond) // several more ticks
	require.Empty(t, e.find(t, other, app.SearchRequest{Query: "typewriters", Mode: domain.SearchLexical}).Results,
		"an org nobody suspects waits for the full pass")
	_, err = ix.Repair(ctx)
	require.NoError(t, err)
	require.Len(t, e.find(t, other, app.SearchRequest{Query: "typewriters", Mode: domain.SearchLexical}).Results, 1)
}

// TestSealedMemoriesIndexWithoutDrift: with encryption at rest the store
// keeps a keyed content hash, and the text index keeps the same one (the
// indexer passes the store's), so a sealed memory's entry is not drift.
func TestSealedMemoriesIndexWithoutDrift(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kek, err := keywrap.OpenFile(filepath.Join(dir, keywrap.FileName))
	require.NoError(t, err)
	e := newSearchEnvWith(t, sqlitestore.Config{Path: filepath.Join(dir, "engram.db"), Keys: kek, Encrypt: true})
	tn := sAlice.Tenant()
	m := e.add(t, sAlice, "Favourite tea is oolong")
	e.add(t, sAlice, "Owns a red kayak")
	require.NotEqual(t, domain.ContentHash(m.Text), m.ContentHash, "the stored hash is keyed")
	_, err = e.mem.Update(ctx, sAlice, m.ID, app.UpdateInput{Text: ptr("Favourite tea is sencha")}, "app")
	require.NoError(t, err)
	require.Empty(t, driftOf(t, e.store.TextIndex(), tn.OrgID))
	require.Equal(t, []domain.MemoryID{m.ID}, resultIDs(e.find(t, sAlice, app.SearchRequest{Query: "sencha", Mode: domain.SearchLexical})))
}

// driftOf is a whole IndexDrift pass over org: every drifted memory.
func driftOf(t *testing.T, d ports.IndexDrift, org domain.OrgID) []ports.MemoryRef {
	t.Helper()
	var out []ports.MemoryRef
	after := ports.MemoryRef{}
	for range 1000 {
		step, err := d.Drift(context.Background(), org, after, 100)
		require.NoError(t, err)
		out = append(out, step.Refs...)
		if step.Done {
			return out
		}
		after = step.Next
	}
	t.Fatal("the drift pass did not end")
	return nil
}
