package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// lostAnswer commits a Create and then reports what a client sees when the
// connection or its deadline ends after COMMIT: an outage.
type lostAnswer struct {
	*sqlitestore.Store
	lose bool
}

func (l *lostAnswer) Create(ctx context.Context, t domain.Tenant, m domain.Memory) (domain.Memory, bool, error) {
	stored, created, err := l.Store.Create(ctx, t, m)
	if err == nil && l.lose {
		return domain.Memory{}, false, &domain.UnavailableError{Dependency: "postgres", Err: errors.New("i/o timeout after COMMIT")}
	}
	return stored, created, err
}

// A write whose commit happened but whose answer was lost is answered with
// the memory, not with a 503 that hides it; a write that did not commit
// still fails.
func TestAddAnswersACommitWhoseAnswerWasLost(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	lost := &lostAnswer{Store: st, lose: true}
	svc := app.NewMemoryService(app.MemoryDeps{Memories: lost, Apps: st, Access: st})
	t.Cleanup(svc.Close)

	m, created, err := svc.Add(ctx, owner, app.AddInput{Text: "committed behind a timeout"})
	require.NoError(t, err)
	require.True(t, created)
	got, err := st.Get(ctx, owner.Tenant(), m.ID)
	require.NoError(t, err)
	require.Equal(t, "committed behind a timeout", got.Text)

	failing := &failingCreate{Store: st}
	svc2 := app.NewMemoryService(app.MemoryDeps{Memories: failing, Apps: st, Access: st})
	t.Cleanup(svc2.Close)
	_, _, err = svc2.Add(ctx, owner, app.AddInput{Text: "never committed"})
	require.ErrorIs(t, err, domain.ErrUnavailable)
}

type failingCreate struct{ *sqlitestore.Store }

func (f *failingCreate) Create(context.Context, domain.Tenant, domain.Memory) (domain.Memory, bool, error) {
	return domain.Memory{}, false, &domain.UnavailableError{Dependency: "postgres", Err: errors.New("connection refused")}
}

// lostAnswers commits Update, SetState and Delete, then reports an outage:
// the answer was lost after COMMIT.
type lostAnswers struct{ *sqlitestore.Store }

var errLostAfterCommit = &domain.UnavailableError{Dependency: "postgres", Err: errors.New("i/o timeout after COMMIT")}

func (l lostAnswers) Update(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID, fn func(*domain.Memory) error) (domain.Memory, error) {
	if _, err := l.Store.Update(ctx, t, id, actor, fn); err != nil {
		return domain.Memory{}, err
	}
	return domain.Memory{}, errLostAfterCommit
}

func (l lostAnswers) SetState(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, s domain.State, actor domain.AppID) ([]domain.Memory, error) {
	if _, err := l.Store.SetState(ctx, t, ids, s, actor); err != nil {
		return nil, err
	}
	return nil, errLostAfterCommit
}

func (l lostAnswers) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, actor domain.AppID) error {
	if err := l.Store.Delete(ctx, t, ids, actor); err != nil {
		return err
	}
	return errLostAfterCommit
}

// neverCommits fails Update, SetState and Delete with an outage before
// writing anything.
type neverCommits struct{ *sqlitestore.Store }

var errRefused = &domain.UnavailableError{Dependency: "postgres", Err: errors.New("connection refused")}

func (neverCommits) Update(context.Context, domain.Tenant, domain.MemoryID, domain.AppID, func(*domain.Memory) error) (domain.Memory, error) {
	return domain.Memory{}, errRefused
}

func (neverCommits) SetState(context.Context, domain.Tenant, []domain.MemoryID, domain.State, domain.AppID) ([]domain.Memory, error) {
	return nil, errRefused
}

func (neverCommits) Delete(context.Context, domain.Tenant, []domain.MemoryID, domain.AppID) error {
	return errRefused
}

// changes records what the indexes are told.
type changes struct{ ids []domain.MemoryID }

func (c *changes) MemoriesChanged(_ context.Context, _ domain.Tenant, ids []domain.MemoryID) error {
	c.ids = append(c.ids, ids...)
	return nil
}

// An update, a bulk state change and a bulk delete whose commit happened
// but whose answer was lost are answered with their outcome (and the
// indexes are told, so they follow the store), not with a 503 that hides
// them; the same calls that never committed still fail, and the store is
// unchanged.
func TestChangesAnswerACommitWhoseAnswerWasLost(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	plain := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st})
	t.Cleanup(plain.Close)
	var ids []domain.MemoryID
	for _, text := range []string{"first memory", "second memory", "third memory"} {
		m, _, err := plain.Add(ctx, owner, app.AddInput{Text: text})
		require.NoError(t, err)
		ids = append(ids, m.ID)
	}

	seen := &changes{}
	lost := app.NewMemoryService(app.MemoryDeps{Memories: lostAnswers{st}, Apps: st, Access: st, Observers: []app.ChangeObserver{seen}})
	t.Cleanup(lost.Close)
	never := app.NewMemoryService(app.MemoryDeps{Memories: neverCommits{st}, Apps: st, Access: st})
	t.Cleanup(never.Close)
	text, md := "first memory, rewritten", domain.Metadata{"topic": "faults", "n": 3}
	cats := []string{"ops"}

	_, err = never.Update(ctx, owner, ids[0], app.UpdateInput{Text: &text}, "")
	require.ErrorIs(t, err, domain.ErrUnavailable, "an update that did not commit fails")
	m, err := lost.Update(ctx, owner, ids[0], app.UpdateInput{Text: &text, Metadata: &md, Categories: &cats}, "")
	require.NoError(t, err, "an update committed behind a lost answer succeeds")
	require.Equal(t, text, m.Text)
	require.Equal(t, ids[0], m.ID)

	_, err = never.SetState(ctx, owner, ids[1:], domain.StatePaused, "")
	require.ErrorIs(t, err, domain.ErrUnavailable)
	ms, err := lost.SetState(ctx, owner, ids[1:], domain.StatePaused, "")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	for _, m := range ms {
		require.Equal(t, domain.StatePaused, m.State)
	}

	require.ErrorIs(t, never.Delete(ctx, owner, ids, ""), domain.ErrUnavailable)
	for _, id := range ids {
		m, err := st.Get(ctx, owner.Tenant(), id)
		require.NoError(t, err)
		require.NotEqual(t, domain.StateDeleted, m.State, "nothing deleted by the call that never committed")
	}
	require.NoError(t, lost.Delete(ctx, owner, ids, ""))
	for _, id := range ids {
		m, err := st.Get(ctx, owner.Tenant(), id)
		require.NoError(t, err)
		require.Equal(t, domain.StateDeleted, m.State)
	}
	require.ElementsMatch(t, append(append([]domain.MemoryID{ids[0]}, ids[1:]...), ids...), seen.ids,
		"every change answered as done was passed on to the indexes")
}
