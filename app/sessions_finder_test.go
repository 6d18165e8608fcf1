package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

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

// TestContextQueryFromLongMessage: with no query given, the latest user
// message becomes the query; a message longer than a search query may be is
// cut (at a character boundary) instead of failing the call.
func TestContextQueryFromLongMessage(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	mem := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st})
	sessions := inproc.NewSessionStore(inproc.SessionOptions{})
	t.Cleanup(func() { _ = sessions.Close() })
	svc := app.NewSessionService(app.SessionDeps{Sessions: sessions, Memories: mem, Finder: app.TextFinder{Text: st.TextIndex(), Memories: mem}})

	long := "tea " + strings.Repeat("é", domain.MaxTextBytes/2-4)
	_, err = svc.Append(ctx, alice, "chat", app.EventInput{Role: "user", Text: long})
	require.NoError(t, err)
	c, err := svc.Context(ctx, alice, "chat", app.ContextInput{})
	require.NoError(t, err)
	require.LessOrEqual(t, len(c.Query), 1024)
	require.True(t, utf8.ValidString(c.Query))
	require.True(t, strings.HasPrefix(c.Query, "tea "))

	_, err = svc.Context(ctx, alice, "chat", app.ContextInput{Query: strings.Repeat("x", domain.MaxQueryBytes+1)})
	require.ErrorIs(t, err, domain.ErrInvalid)
}

// TestContextSurvivesMemoryOutage closes the memory store under the service:
// the session events still come back, and Omitted says the memories are
// missing, so an agent never mistakes a partial context for a full one.
func TestContextSurvivesMemoryOutage(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	mem := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st})
	sessions := inproc.NewSessionStore(inproc.SessionOptions{})
	t.Cleanup(func() { _ = sessions.Close() })
	svc := app.NewSessionService(app.SessionDeps{Sessions: sessions, Memories: mem, Finder: app.TextFinder{Text: st.TextIndex(), Memories: mem}})
	_, err = svc.Append(ctx, alice, "chat", app.EventInput{Role: "user", Text: "tea?"})
	require.NoError(t, err)

	require.NoError(t, st.Close())
	c, err := svc.Context(ctx, alice, "chat", app.ContextInput{Query: "tea"})
	require.NoError(t, err)
	require.Len(t, c.Events, 1)
	require.Empty(t, c.Memories)
	require.Len(t, c.Omitted, 1)
	require.Contains(t, c.Omitted[0], "unavailable")
}
