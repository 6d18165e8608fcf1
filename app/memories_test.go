package app_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

func newMemoryService(t *testing.T) (*app.MemoryService, *sqlitestore.Store) {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	svc := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st})
	t.Cleanup(svc.Close)
	return svc, st
}

var owner = domain.Principal{OrgID: "acme", UserID: "owner", Scopes: domain.DefaultUserScopes, ClientID: "Claude Desktop"}

func TestAddDeduplicatesAndUsesTheClientAsApp(t *testing.T) {
	ctx := context.Background()
	svc, _ := newMemoryService(t)
	m, created, err := svc.Add(ctx, owner, app.AddInput{Text: "likes jazz"})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, domain.AppID("claude-desktop"), m.AppID)

	again, created, err := svc.Add(ctx, owner, app.AddInput{Text: "likes jazz", App: "cursor"})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, m.ID, again.ID)
}

func TestScopesAreEnforcedInTheService(t *testing.T) {
	ctx := context.Background()
	svc, _ := newMemoryService(t)
	reader := owner
	reader.Scopes = []domain.Scope{domain.ScopeMemoriesRead}
	_, _, err := svc.Add(ctx, reader, app.AddInput{Text: "x"})
	var fe *domain.ForbiddenError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, domain.ScopeMemoriesWrite, fe.MissingScope)
	_, err = svc.Stats(ctx, reader)
	require.ErrorIs(t, err, domain.ErrForbidden)
}

func TestPausedAppCannotWrite(t *testing.T) {
	ctx := context.Background()
	svc, _ := newMemoryService(t)
	_, _, err := svc.Add(ctx, owner, app.AddInput{Text: "first", App: "cursor"})
	require.NoError(t, err)
	off := false
	_, err = svc.UpdateApp(ctx, owner, "cursor", app.AppPatch{Active: &off})
	require.NoError(t, err)
	_, _, err = svc.Add(ctx, owner, app.AddInput{Text: "second", App: "cursor"})
	require.ErrorIs(t, err, domain.ErrForbidden)
	page, err := svc.List(ctx, owner, domain.ListQuery{}, "")
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "the refused write left nothing behind")
}

// Reads are logged off the request path but are visible to the "accessed by
// app" view immediately, and Close writes whatever is still queued.
func TestReadsAreRecordedPerApp(t *testing.T) {
	ctx := context.Background()
	svc, st := newMemoryService(t)
	m, _, err := svc.Add(ctx, owner, app.AddInput{Text: "reads are logged", App: "writer"})
	require.NoError(t, err)
	_, err = svc.Get(ctx, owner, m.ID, "cursor")
	require.NoError(t, err)
	got, _, err := svc.AppAccessed(ctx, owner, "cursor", 10, "")
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, m.ID, got[0].MemoryID)
	require.Equal(t, domain.AccessGet, got[0].Kind)

	_, err = svc.List(ctx, owner, domain.ListQuery{}, "reader")
	require.NoError(t, err)
	svc.Close()
	entries, _, err := st.ListAccess(ctx, owner.Tenant(), "reader", 10, "")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, domain.AccessList, entries[0].Kind)
}

func TestBulkValidation(t *testing.T) {
	ctx := context.Background()
	svc, _ := newMemoryService(t)
	err := svc.Delete(ctx, owner, nil, "")
	var ve *domain.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, "ids", ve.Field)
	_, err = svc.SetState(ctx, owner, []domain.MemoryID{"nope"}, domain.StatePaused, "")
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, err = svc.SetState(ctx, owner, []domain.MemoryID{domain.NewMemoryID(nowish())}, domain.StateDeleted, "")
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func TestDeleteAllSoftDeletesEverything(t *testing.T) {
	ctx := context.Background()
	svc, _ := newMemoryService(t)
	for _, txt := range []string{"a", "b", "c"} {
		_, _, err := svc.Add(ctx, owner, app.AddInput{Text: txt})
		require.NoError(t, err)
	}
	n, err := svc.DeleteAll(ctx, owner, "")
	require.NoError(t, err)
	require.Equal(t, 3, n)
	page, err := svc.List(ctx, owner, domain.ListQuery{}, "")
	require.NoError(t, err)
	require.Empty(t, page.Items)
	page, err = svc.List(ctx, owner, domain.ListQuery{States: []domain.State{domain.StateDeleted}}, "")
	require.NoError(t, err)
	require.Len(t, page.Items, 3)
}

// A read whose context has ended writes its access entry inline, beside the
// queue's writer goroutine; the race detector checks they share nothing
// unguarded.
func TestAccessWritesInlineWhenTheReaderGaveUp(t *testing.T) {
	svc, _ := newMemoryService(t)
	ctx := context.Background()
	m, _, err := svc.Add(ctx, owner, app.AddInput{Text: "read by impatient callers"})
	require.NoError(t, err)
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 50 {
				c, cancel := context.WithCancel(ctx)
				if (i+j)%2 == 0 {
					cancel() // ended before the read: the entry is written inline
				}
				svc.RecordAccess(c, owner, domain.AppID(fmt.Sprintf("app-%d", j%5)), domain.AccessGet, m)
				cancel()
			}
		}()
	}
	for range 8 {
		<-done
	}
	got, _, err := svc.AppAccessed(ctx, owner, "app-0", 10, "")
	require.NoError(t, err)
	require.Len(t, got, 1)
}
