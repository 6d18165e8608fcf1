package app_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestTextFinderRanksAndFilters(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	mem := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st})
	text := st.TextIndex()

	add := func(p domain.Principal, s string) domain.Memory {
		m, _, err := mem.Add(ctx, p, app.AddInput{Text: s})
		require.NoError(t, err)
		require.NoError(t, text.Index(ctx, p.Tenant(), []ports.TextDoc{{ID: m.ID, Text: m.Text, AppID: m.AppID, CreatedAt: m.CreatedAt}}))
		return m
	}
	weak := add(alice, "coffee is fine, tea is fine")
	strong := add(alice, "tea tea tea: Alice drinks green tea every morning")
	gone := add(alice, "tea with lemon")
	add(alice, "Alice lives in Berlin")
	bob := domain.Principal{OrgID: "acme", UserID: "bob", Scopes: domain.DefaultUserScopes}
	add(bob, "bob likes tea")
	require.NoError(t, mem.Delete(ctx, alice, []domain.MemoryID{gone.ID}, ""))

	f := app.TextFinder{Text: text, Memories: mem}
	got, err := f.FindMemories(ctx, alice, "tea", 10)
	require.NoError(t, err)
	require.Len(t, got, 2, "bob's memory and the deleted one are left out")
	require.Equal(t, strong.ID, got[0].ID, "most relevant first")
	require.Equal(t, weak.ID, got[1].ID)

	none, err := f.FindMemories(ctx, alice, "zeppelin", 10)
	require.NoError(t, err)
	require.Empty(t, none)

	// Wired into session context.
	sessions := inproc.NewSessionStore(inproc.SessionOptions{})
	t.Cleanup(func() { _ = sessions.Close() })
	svc := app.NewSessionService(app.SessionDeps{Sessions: sessions, Memories: mem, Finder: f})
	_, err = svc.Append(ctx, alice, "chat", app.EventInput{Role: "user", Text: "what tea should I drink?"})
	require.NoError(t, err)
	c, err := svc.Context(ctx, alice, "chat", app.ContextInput{Memories: 1})
	require.NoError(t, err)
	require.Len(t, c.Memories, 1)
	require.Equal(t, strong.ID, c.Memories[0].ID)
}
