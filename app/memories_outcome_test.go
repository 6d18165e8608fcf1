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
