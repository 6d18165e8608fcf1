package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// badUTF8 are the byte sequences issue 11 found stored as U+FFFD, plus an
// unpaired surrogate escape, which encoding/json alters the same way.
var badUTF8 = map[string]string{
	"ff fe":             "\xff\xfe",
	"overlong C0 AF":    "\xc0\xaf",
	"lone continuation": "\x80",
	"unpaired \\ud800":  `\ud800`,
}

// raw sends body verbatim and decodes the JSON answer.
func (f *feedbackServer) raw(token, method, path, body string) (int, map[string]any) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+"/api/v1"+path, strings.NewReader(body))
	require.NoError(f.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	out := map[string]any{}
	b, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	require.NoError(f.t, json.Unmarshal(b, &out), "%s %s: %s", method, path, b)
	return resp.StatusCode, out
}

// TestInvalidUTF8IsRefusedNotStored: on SQLite and PostgreSQL, a text with
// invalid UTF-8 is a 400 naming the field and nothing is written or changed.
func TestInvalidUTF8IsRefusedNotStored(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFeedbackServer(t, open)
			alice := f.token("acme", "alice", userScopes...)
			status, m := f.call(alice, "POST", "/memories", map[string]any{"text": "caf\u00e9 \U0001F600"})
			require.Equal(t, http.StatusCreated, status, m)
			id := m["id"].(string)
			for what, bad := range badUTF8 {
				status, p := f.raw(alice, "POST", "/memories", `{"text":"tea `+bad+`"}`)
				require.Equal(t, http.StatusBadRequest, status, "%s: %v", what, p)
				require.Equal(t, "text", problemField(t, p), what)
				status, p = f.raw(alice, "POST", "/memories", `{"text":"tea","metadata":{"note":"`+bad+`"}}`)
				require.Equal(t, http.StatusBadRequest, status, "%s: %v", what, p)
				require.Equal(t, "metadata.note", problemField(t, p), what)
				status, p = f.raw(alice, "PATCH", "/memories/"+id, `{"text":"`+bad+`"}`)
				require.Equal(t, http.StatusBadRequest, status, "%s: %v", what, p)
				require.Equal(t, "text", problemField(t, p), what)
			}
			status, page := f.call(alice, "GET", "/memories", nil)
			require.Equal(t, http.StatusOK, status, page)
			require.Len(t, page["items"], 1, "nothing was added")
			require.Equal(t, "caf\u00e9 \U0001F600", page["items"].([]any)[0].(map[string]any)["text"], "nothing was changed; valid non-ASCII text passes")
		})
	}
}

// newFullEnv is a SQLite env with every optional route group on: search,
// feedback, experiments and sessions.
func newFullEnv(t *testing.T) *env {
	t.Helper()
	s := newSQLiteStore(t).(*sqlitestore.Store)
	e := newEnv(t, func(o *envOptions) {
		o.search = true
		o.store = func(testing.TB) store { return s }
	})
	e.enableSessions(t)
	e.server.EnableFeedback(
		app.NewFeedbackService(app.FeedbackDeps{Feedback: s, Queries: s, Experiments: s}),
		app.NewExperimentService(app.ExperimentDeps{Experiments: s, Feedback: s, Queries: s}))
	return e
}

// TestEveryBodyRouteRefusesInvalidUTF8 sweeps the router: every route that
// takes a body answers 400 naming the field for a string with invalid
// UTF-8, before decoding (an unknown field would otherwise be the error).
func TestEveryBodyRouteRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	e := newFullEnv(t)
	e.skipConformance = true // the bodies are deliberately not JSON text
	alice := e.user("acme", "alice", append([]domain.Scope{domain.ScopeExperimentsRead, domain.ScopeExperimentsWrite}, domain.DefaultUserScopes...)...)
	swept := 0
	for _, r := range e.server.Handler().(*echo.Echo).Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || (r.Method != http.MethodPost && r.Method != http.MethodPatch && r.Method != http.MethodPut) {
			continue
		}
		path := strings.NewReplacer(":session_id", "s1", ":id", "0190a000-0000-7000-8000-000000000001").Replace(r.Path)
		if strings.HasPrefix(r.Path, "/api/v1/apps/") {
			path = strings.Replace(r.Path, ":id", "cursor", 1)
		}
		for what, bad := range badUTF8 {
			req := alice.request(r.Method, path, `{"zz":"x`+bad+`"}`)
			rec := httptest.NewRecorder()
			e.server.Handler().ServeHTTP(rec, req)
			p := requireProblem(t, rec, http.StatusBadRequest)
			require.NotEmpty(t, p.Errors, "%s %s %s: %s", r.Method, r.Path, what, rec.Body)
			require.Equal(t, "zz", p.Errors[0].Field, "%s %s %s", r.Method, r.Path, what)
			require.Contains(t, p.Errors[0].Reason, "UTF-8")
		}
		swept++
	}
	require.Equal(t, 16, swept, "every body route was swept")
}
