package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// newSessionEnv is an env with the session routes over sessions (in-process
// when nil).
func newSessionEnv(t *testing.T, sessions ports.SessionStore) *env {
	t.Helper()
	e := newEnv(t)
	if sessions == nil {
		st := inproc.NewSessionStore(inproc.SessionOptions{})
		t.Cleanup(func() { _ = st.Close() })
		sessions = st
	}
	e.server.EnableSessions(app.NewSessionService(app.SessionDeps{Sessions: sessions, Memories: e.deps.Memories}))
	return e
}

type sessionEventJSON struct {
	ID        string         `json:"id"`
	Role      string         `json:"role"`
	Text      string         `json:"text"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
}

type sessionContextJSON struct {
	SessionID string             `json:"session_id"`
	Query     string             `json:"query"`
	Events    []sessionEventJSON `json:"events"`
	Memories  []memoryJSON       `json:"memories"`
	Omitted   []string           `json:"omitted"`
}

func (c caller) appendEvent(session, role, text string) sessionEventJSON {
	c.e.t.Helper()
	return decode[sessionEventJSON](c.e.t, c.do(http.MethodPost, "/api/v1/sessions/"+session+"/events", map[string]any{"role": role, "text": text}), http.StatusCreated)
}

func TestSessionContextAndPromote(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t, nil)
	alice := e.user("acme", "alice")
	alice.add("lives in Paris")
	alice.add("allergic to peanuts")
	first := alice.appendEvent("trip", "user", "where should I eat in Paris tonight?")
	second := alice.appendEvent("trip", "assistant", "Try the bistro near the Seine.")
	require.Equal(t, "user", first.Role)
	require.Equal(t, map[string]any{}, first.Metadata)

	// Newest first, bounded by limit.
	list := decode[struct {
		Events []sessionEventJSON `json:"events"`
	}](t, alice.do(http.MethodGet, "/api/v1/sessions/trip/events?limit=1", nil), http.StatusOK)
	require.Len(t, list.Events, 1)
	require.Equal(t, second.ID, list.Events[0].ID)

	// An explicit query picks the relevant memory, not the others.
	sc := decode[sessionContextJSON](t, alice.do(http.MethodGet, "/api/v1/sessions/trip/context?query=Paris", nil), http.StatusOK)
	require.Equal(t, "trip", sc.SessionID)
	require.Len(t, sc.Events, 2)
	require.Len(t, sc.Memories, 1)
	require.Equal(t, "lives in Paris", sc.Memories[0].Text)
	require.Empty(t, sc.Omitted)
	// Without memories:read the events still come, and omitted says why.
	sc = decode[sessionContextJSON](t, e.user("acme", "alice", domain.ScopeSessionsRead).do(http.MethodGet, "/api/v1/sessions/trip/context?query=Paris", nil), http.StatusOK)
	require.Len(t, sc.Events, 2)
	require.Empty(t, sc.Memories)
	require.Len(t, sc.Omitted, 1)
	require.Contains(t, sc.Omitted[0], "memories:read")

	// Promoting the same event twice makes one memory.
	type promoted struct {
		Promoted []struct {
			EventID string     `json:"event_id"`
			Memory  memoryJSON `json:"memory"`
			Created bool       `json:"created"`
		} `json:"promoted"`
	}
	p := decode[promoted](t, alice.do(http.MethodPost, "/api/v1/sessions/trip/promote", map[string]any{"event_ids": []string{second.ID}, "categories": []string{"travel"}}), http.StatusOK)
	require.Len(t, p.Promoted, 1)
	require.True(t, p.Promoted[0].Created)
	require.Equal(t, second.ID, p.Promoted[0].EventID)
	require.Equal(t, "Try the bistro near the Seine.", p.Promoted[0].Memory.Text)
	again := decode[promoted](t, alice.do(http.MethodPost, "/api/v1/sessions/trip/promote", map[string]any{"event_ids": []string{second.ID}}), http.StatusOK)
	require.False(t, again.Promoted[0].Created)
	require.Equal(t, p.Promoted[0].Memory.ID, again.Promoted[0].Memory.ID)
	requireProblem(t, alice.do(http.MethodPost, "/api/v1/sessions/trip/promote", map[string]any{"event_ids": []string{domain.NewID(time.Now())}}), http.StatusNotFound)

	// Ending the session forgets its events; the promoted memory stays.
	require.Equal(t, http.StatusNoContent, alice.do(http.MethodDelete, "/api/v1/sessions/trip", nil).Code)
	require.Empty(t, decode[sessionContextJSON](t, alice.do(http.MethodGet, "/api/v1/sessions/trip/context?query=Paris", nil), http.StatusOK).Events)
	require.Equal(t, http.StatusOK, alice.do(http.MethodGet, "/api/v1/memories/"+p.Promoted[0].Memory.ID, nil).Code)
}

func TestSessionScopes(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t, nil)
	ev := e.user("acme", "alice").appendEvent("chat", "user", "hello")
	reader := e.user("acme", "alice", domain.ScopeSessionsRead, domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite)
	writer := e.user("acme", "alice", domain.ScopeSessionsWrite)
	for _, tc := range []struct {
		who    caller
		method string
		path   string
		body   any
		scope  domain.Scope
	}{
		{reader, http.MethodPost, "/api/v1/sessions/chat/events", map[string]any{"role": "user", "text": "x"}, domain.ScopeSessionsWrite},
		{reader, http.MethodPost, "/api/v1/sessions/chat/promote", map[string]any{"event_ids": []string{ev.ID}}, domain.ScopeSessionsWrite},
		{reader, http.MethodDelete, "/api/v1/sessions/chat", nil, domain.ScopeSessionsWrite},
		{writer, http.MethodGet, "/api/v1/sessions/chat/events", nil, domain.ScopeSessionsRead},
		{writer, http.MethodGet, "/api/v1/sessions/chat/context", nil, domain.ScopeSessionsRead},
		// Promote reads the session and writes memories: it needs both.
		{writer, http.MethodPost, "/api/v1/sessions/chat/promote", map[string]any{"event_ids": []string{ev.ID}}, domain.ScopeSessionsRead},
	} {
		rec := tc.who.do(tc.method, tc.path, tc.body)
		p := requireProblem(t, rec, http.StatusForbidden)
		require.Equal(t, "urn:engram:problem:insufficient-scope", p.Type, "%s %s", tc.method, tc.path)
		require.Contains(t, rec.Header().Get("WWW-Authenticate"), `scope="`+string(tc.scope)+`"`, "%s %s", tc.method, tc.path)
	}
	// What each may do still works, and the refused calls changed nothing.
	require.Len(t, decode[struct {
		Events []sessionEventJSON `json:"events"`
	}](t, reader.do(http.MethodGet, "/api/v1/sessions/chat/events", nil), http.StatusOK).Events, 1)
	writer.appendEvent("chat", "user", "second")
}

func TestSessionTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t, nil)
	alice := e.user("acme", "alice")
	ev := alice.appendEvent("shared-name", "user", "my secret plan")
	// Same session name: another user of the org, and the same user id in
	// another org, see an empty session and cannot touch alice's events.
	for _, other := range []caller{e.user("acme", "bob"), e.user("globex", "alice")} {
		require.Empty(t, decode[sessionContextJSON](t, other.do(http.MethodGet, "/api/v1/sessions/shared-name/context?query=secret", nil), http.StatusOK).Events)
		requireProblem(t, other.do(http.MethodPost, "/api/v1/sessions/shared-name/promote", map[string]any{"event_ids": []string{ev.ID}}), http.StatusNotFound)
		requireProblem(t, other.do(http.MethodDelete, "/api/v1/sessions/shared-name", nil), http.StatusNotFound)
		other.appendEvent("shared-name", "user", "unrelated")
	}
	list := decode[struct {
		Events []sessionEventJSON `json:"events"`
	}](t, alice.do(http.MethodGet, "/api/v1/sessions/shared-name/events", nil), http.StatusOK)
	require.Len(t, list.Events, 1)
	require.Equal(t, "my secret plan", list.Events[0].Text)
}

func TestSessionInvalidInput(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t, nil)
	alice := e.user("acme", "alice")
	alice.appendEvent("chat", "user", "hello")
	long := strings.Repeat("s", 129)
	for _, tc := range []struct {
		method, path string
		body         any
		field        string
	}{
		{http.MethodPost, "/api/v1/sessions/-bad/events", map[string]any{"role": "user", "text": "x"}, "session_id"},
		{http.MethodGet, "/api/v1/sessions/" + long + "/events", nil, "session_id"},
		{http.MethodGet, "/api/v1/sessions/a%20b/context", nil, "session_id"},
		{http.MethodPost, "/api/v1/sessions/.x/promote", map[string]any{"event_ids": []string{"x"}}, "session_id"},
		{http.MethodDelete, "/api/v1/sessions/-bad", nil, "session_id"},
		{http.MethodPost, "/api/v1/sessions/chat/events", map[string]any{"role": "robot", "text": "x"}, "role"},
		{http.MethodPost, "/api/v1/sessions/chat/events", map[string]any{"role": "user", "text": ""}, "text"},
		{http.MethodGet, "/api/v1/sessions/chat/events?limit=0", nil, "limit"},
		{http.MethodGet, "/api/v1/sessions/chat/events?limit=x", nil, "limit"},
		{http.MethodGet, "/api/v1/sessions/chat/context?events=0", nil, "events"},
		{http.MethodGet, "/api/v1/sessions/chat/context?memories=1000", nil, "memories"},
		{http.MethodPost, "/api/v1/sessions/chat/promote", map[string]any{"event_ids": []string{}}, "event_ids"},
		{http.MethodPost, "/api/v1/sessions/chat/promote", map[string]any{"event_ids": []string{"not an id"}}, "event_ids"},
	} {
		p := requireProblem(t, alice.do(tc.method, tc.path, tc.body), http.StatusBadRequest)
		require.NotEmpty(t, p.Errors, "%s %s", tc.method, tc.path)
		require.Equal(t, tc.field, p.Errors[0].Field, "%s %s", tc.method, tc.path)
	}
	// Unknown fields are refused, not ignored.
	requireProblem(t, alice.do(http.MethodPost, "/api/v1/sessions/chat/events", map[string]any{"role": "user", "text": "x", "user_id": "bob"}), http.StatusBadRequest)
}

// TestSessionStoreOutage kills the Valkey the sessions live on: every
// session route answers 503 with Retry-After (never a 500, never an empty
// session passed off as real), and the same server serves again once Valkey
// is back, without being rebuilt.
func TestSessionStoreOutage(t *testing.T) {
	t.Parallel()
	v := startValkey(t)
	e := newSessionEnv(t, v.open())
	alice := e.user("acme", "alice")
	ev := alice.appendEvent("chat", "user", "before the outage")

	v.stop()
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/v1/sessions/chat/events", map[string]any{"role": "user", "text": "during"}},
		{http.MethodGet, "/api/v1/sessions/chat/events", nil},
		{http.MethodGet, "/api/v1/sessions/chat/context?query=outage", nil},
		{http.MethodPost, "/api/v1/sessions/chat/promote", map[string]any{"event_ids": []string{ev.ID}}},
		{http.MethodDelete, "/api/v1/sessions/chat", nil},
	} {
		rec := alice.do(tc.method, tc.path, tc.body)
		p := requireProblem(t, rec, http.StatusServiceUnavailable)
		require.Equal(t, "urn:engram:problem:unavailable", p.Type)
		require.NotEmpty(t, rec.Header().Get("Retry-After"), "%s %s", tc.method, tc.path)
		require.NotContains(t, p.Detail, "127.0.0.1", "backend addresses stay in the log")
	}

	v.start()
	require.Eventually(t, func() bool {
		return alice.do(http.MethodPost, "/api/v1/sessions/chat/events", map[string]any{"role": "user", "text": "after"}).Code == http.StatusCreated
	}, 10*time.Second, 100*time.Millisecond)
	list := decode[struct {
		Events []sessionEventJSON `json:"events"`
	}](t, alice.do(http.MethodGet, "/api/v1/sessions/chat/events", nil), http.StatusOK)
	require.Equal(t, "after", list.Events[0].Text)
}
