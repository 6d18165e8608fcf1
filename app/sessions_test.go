package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
)

// newServices wires SessionService to real stores: sessions in process,
// memories in PostgreSQL (a fresh schema, dropped at the end).
func newServices(t *testing.T) (*app.SessionService, *app.MemoryService) {
	t.Helper()
	base := contracttest.BackendAddr(t, contracttest.Postgres)
	ctx := context.Background()
	admin, err := sqlx.Open("postgres", base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "engram_app_" + hex.EncodeToString(b[:])
	_, err = admin.ExecContext(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		require.NoError(t, err)
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	_, err = pgstore.Migrate(ctx, u.String(), pgstore.Up)
	require.NoError(t, err)
	pg, err := pgstore.Open(ctx, pgstore.Config{URL: u.String(), MaxOpenConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.Close() })

	mem := app.NewMemoryService(app.MemoryDeps{Memories: pg, Apps: pg, Access: pg})
	sessions := inproc.NewSessionStore(inproc.SessionOptions{})
	t.Cleanup(func() { _ = sessions.Close() })
	return app.NewSessionService(app.SessionDeps{Sessions: sessions, Memories: mem}), mem
}

var alice = domain.Principal{OrgID: "acme", UserID: "alice", Scopes: domain.DefaultUserScopes, ClientID: "agent"}

func TestSessionServiceAppendRecentEnd(t *testing.T) {
	svc, _ := newServices(t)
	ctx := context.Background()
	_, err := svc.Append(ctx, alice, "chat-1", app.EventInput{Role: "user", Text: "hi"})
	require.NoError(t, err)
	e2, err := svc.Append(ctx, alice, "chat-1", app.EventInput{Role: "assistant", Text: "hello", Metadata: domain.Metadata{"model": "x"}})
	require.NoError(t, err)

	got, err := svc.Recent(ctx, alice, "chat-1", 0)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, e2.ID, got[1].ID, "oldest first")
	require.Equal(t, "x", got[1].Metadata["model"])
	require.Zero(t, got[1].Score, "a listing carries no score")

	for name, call := range map[string]func() error{
		"bad session": func() error {
			_, err := svc.Append(ctx, alice, "../x", app.EventInput{Role: "user", Text: "x"})
			return err
		},
		"bad role": func() error {
			_, err := svc.Append(ctx, alice, "c", app.EventInput{Role: "bot", Text: "x"})
			return err
		},
		"empty text": func() error { _, err := svc.Append(ctx, alice, "c", app.EventInput{Role: "user"}); return err },
		"bad limit":  func() error { _, err := svc.Recent(ctx, alice, "c", domain.MaxRecentEvents+1); return err },
	} {
		require.ErrorIs(t, call(), domain.ErrInvalid, name)
	}

	reader := alice
	reader.Scopes = []domain.Scope{domain.ScopeSessionsRead}
	_, err = svc.Append(ctx, reader, "chat-1", app.EventInput{Role: "user", Text: "x"})
	var fe *domain.ForbiddenError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, domain.ScopeSessionsWrite, fe.MissingScope)
	require.ErrorIs(t, svc.End(ctx, reader, "chat-1"), domain.ErrForbidden)

	ev, err := svc.Resolve(ctx, alice, "chat-1", "HELLO")
	require.NoError(t, err)
	require.Equal(t, e2.ID, ev.ID)

	require.NoError(t, svc.End(ctx, alice, "chat-1"))
	require.ErrorIs(t, svc.End(ctx, alice, "chat-1"), domain.ErrNotFound)
}

func TestSessionServiceContext(t *testing.T) {
	svc, mem := newServices(t)
	ctx := context.Background()
	for _, txt := range []string{"Alice lives in Berlin", "Alice's dog is called Rex", "Alice prefers tea"} {
		_, _, err := mem.Add(ctx, alice, app.AddInput{Text: txt})
		require.NoError(t, err)
	}
	_, err := svc.Append(ctx, alice, "chat", app.EventInput{Role: "user", Text: "dog"})
	require.NoError(t, err)
	_, err = svc.Append(ctx, alice, "chat", app.EventInput{Role: "assistant", Text: "What about your dog?"})
	require.NoError(t, err)

	c, err := svc.Context(ctx, alice, "chat", app.ContextInput{Query: "Berlin"})
	require.NoError(t, err)
	require.Len(t, c.Events, 2)
	require.Equal(t, domain.RoleAssistant, c.Events[0].Role, "newest first")
	require.Len(t, c.Memories, 1)
	require.Equal(t, "Alice lives in Berlin", c.Memories[0].Text)
	require.Empty(t, c.Omitted)

	// No query: the latest user event's text is the query.
	c, err = svc.Context(ctx, alice, "chat", app.ContextInput{})
	require.NoError(t, err)
	require.Equal(t, "dog", c.Query)
	require.Len(t, c.Memories, 1)
	require.Equal(t, "Alice's dog is called Rex", c.Memories[0].Text)

	// Without memories:read the events still come, and the gap is said.
	sessionsOnly := alice
	sessionsOnly.Scopes = []domain.Scope{domain.ScopeSessionsRead}
	c, err = svc.Context(ctx, sessionsOnly, "chat", app.ContextInput{Query: "Berlin"})
	require.NoError(t, err)
	require.Len(t, c.Events, 2)
	require.Empty(t, c.Memories)
	require.Len(t, c.Omitted, 1)

	// Another user of the org sees neither the session nor the memories.
	bob := alice
	bob.UserID = "bob"
	c, err = svc.Context(ctx, bob, "chat", app.ContextInput{Query: "Berlin"})
	require.NoError(t, err)
	require.Empty(t, c.Events)
	require.Empty(t, c.Memories)

	_, err = svc.Context(ctx, alice, "chat", app.ContextInput{Memories: app.MaxContextMemories + 1})
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func TestSessionServicePromote(t *testing.T) {
	svc, mem := newServices(t)
	ctx := context.Background()
	keep, err := svc.Append(ctx, alice, "chat", app.EventInput{Role: "user", Text: "I am allergic to peanuts", Metadata: domain.Metadata{"lang": "en"}})
	require.NoError(t, err)
	_, err = svc.Append(ctx, alice, "chat", app.EventInput{Role: "assistant", Text: "Noted."})
	require.NoError(t, err)

	res, err := svc.Promote(ctx, alice, "chat", app.PromoteInput{EventIDs: []string{keep.ID, keep.ID}, Categories: []string{"health"}})
	require.NoError(t, err)
	require.Len(t, res, 1, "duplicate ids are promoted once")
	require.True(t, res[0].Created)
	m, err := mem.Get(ctx, alice, res[0].Memory.ID, "")
	require.NoError(t, err)
	require.Equal(t, "I am allergic to peanuts", m.Text)
	require.Equal(t, []string{"health"}, m.Categories)
	require.Equal(t, domain.Metadata{"lang": "en", "session_id": "chat", "session_event_id": keep.ID, "session_role": "user"}, m.Metadata)
	require.Equal(t, domain.AppID("agent"), m.AppID)

	again, err := svc.Promote(ctx, alice, "chat", app.PromoteInput{EventIDs: []string{keep.ID}})
	require.NoError(t, err)
	require.False(t, again[0].Created, "an identical active memory exists")
	require.Equal(t, res[0].Memory.ID, again[0].Memory.ID)

	_, err = svc.Promote(ctx, alice, "chat", app.PromoteInput{EventIDs: []string{keep.ID, domain.NewID(time.Now())}})
	require.ErrorIs(t, err, domain.ErrNotFound, "all events must exist before anything is added")
	_, err = svc.Promote(ctx, alice, "chat", app.PromoteInput{})
	require.ErrorIs(t, err, domain.ErrInvalid)
	readOnly := alice
	readOnly.Scopes = []domain.Scope{domain.ScopeSessionsRead, domain.ScopeMemoriesRead}
	_, err = svc.Promote(ctx, readOnly, "chat", app.PromoteInput{EventIDs: []string{keep.ID}})
	require.ErrorIs(t, err, domain.ErrForbidden)
}
