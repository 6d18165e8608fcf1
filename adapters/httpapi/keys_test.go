package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// keyServer is the API over SQLite with API keys in front of JWKS-verified
// tokens, as wiring builds it; logs are kept to check no key leaks.
type keyServer struct {
	t    *testing.T
	url  string
	iss  *issuer
	logs *bytes.Buffer
}

func newKeyServer(t *testing.T) *keyServer {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := newSQLiteStore(t).(*sqlitestore.Store)
	mem := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st})
	t.Cleanup(mem.Close)
	iss := newIssuer(t)
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	t.Cleanup(func() { _ = replay.Close() })
	v, err := jwtauth.NewJWKS(ctx, jwtauth.Config{JWKSURL: iss.jwks.URL, Issuer: testIssuer, Audience: testAudience, PublicURL: publicURL, ReplayCache: replay})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	keys := app.NewKeyService(app.KeyDeps{Keys: st})
	logs := &bytes.Buffer{}
	srv, err := httpapi.New(httpapi.Config{PublicURL: publicURL}, httpapi.Deps{
		Memories: mem, Verifier: keys.Verifier(v), Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	srv.EnableKeys(keys)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &keyServer{t: t, url: hs.URL, iss: iss, logs: logs}
}

func (k *keyServer) call(authz, method, path string, body any) (int, map[string]any) {
	k.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(k.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, k.url+"/api/v1"+path, r)
	require.NoError(k.t, err)
	req.Header.Set("Authorization", authz)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(k.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(k.t, err)
	out := map[string]any{}
	if len(raw) > 0 {
		require.NoError(k.t, json.Unmarshal(raw, &out), "%s %s: %s", method, path, raw)
	}
	return resp.StatusCode, out
}

func TestAPIKeysOverHTTP(t *testing.T) {
	k := newKeyServer(t)
	alice := "Bearer " + k.iss.sign(t, claims("acme", "alice", append([]domain.Scope{domain.ScopeKeysWrite}, domain.DefaultUserScopes...)...))

	status, body := k.call(alice, "POST", "/keys", map[string]any{"name": "laptop", "scopes": []string{"memories:read", "memories:write"}, "app": "cursor"})
	require.Equal(t, http.StatusCreated, status, body)
	key, _ := body["key"].(string)
	require.True(t, strings.HasPrefix(key, "egm_"), body)
	require.NotContains(t, body, "hash")
	id := body["id"].(string)

	for _, authz := range []string{"Token " + key, "Bearer " + key, "token " + key} {
		status, body = k.call(authz, "POST", "/memories", map[string]any{"text": "prefers tea via " + authz[:6]})
		require.Equal(t, http.StatusCreated, status, body)
		require.Equal(t, "cursor", body["app"], "a key bound to an app files writes under it")
	}
	status, body = k.call("Token "+key, "GET", "/memories", nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, body["items"], 3)
	status, _ = k.call("Token "+key, "GET", "/keys", nil)
	require.Equal(t, http.StatusForbidden, status, "the key holds no keys:write")

	status, body = k.call(alice, "GET", "/keys", nil)
	require.Equal(t, http.StatusOK, status)
	items := body["items"].([]any)
	require.Len(t, items, 1)
	listed := items[0].(map[string]any)
	require.NotContains(t, listed, "key", "the key is shown once, at creation")
	require.Equal(t, key[:12], listed["display"])
	require.NotNil(t, listed["last_used_at"])

	status, body = k.call(alice, "DELETE", "/keys/"+id, nil)
	require.Equal(t, http.StatusOK, status, body)
	require.NotNil(t, body["revoked_at"])
	status, body = k.call("Token "+key, "GET", "/memories", nil)
	require.Equal(t, http.StatusUnauthorized, status, "revocation takes effect at once")
	require.Contains(t, body["detail"], "revoked")

	for name, authz := range map[string]string{
		"malformed":    "Token egm_short",
		"unknown":      "Token egm_" + strings.Repeat("A", 43),
		"jwt as Token": "Token " + strings.TrimPrefix(alice, "Bearer "),
	} {
		status, body = k.call(authz, "GET", "/memories", nil)
		require.Equal(t, http.StatusUnauthorized, status, name)
		require.NotEmpty(t, body["detail"], name)
	}
	require.NotContains(t, k.logs.String(), key[12:], "no key material in logs")
}

func TestProjectKeyOnlyOnItsRoutes(t *testing.T) {
	k := newKeyServer(t)
	user := "Bearer " + k.iss.sign(t, claims("acme", "bob", domain.ScopeKeysWrite, domain.ScopeMemoriesRead))
	status, body := k.call(user, "POST", "/keys", map[string]any{"kind": "project"})
	require.Equal(t, http.StatusForbidden, status, "project keys need keys:project: %v", body)
	status, _ = k.call(user, "POST", "/keys", map[string]any{"scopes": []string{"memories:write"}})
	require.Equal(t, http.StatusForbidden, status, "no scope beyond the issuer's")

	admin := "Bearer " + k.iss.sign(t, claims("acme", "ops", domain.ScopeKeysWrite, domain.ScopeKeysProject, domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite))
	status, body = k.call(admin, "POST", "/keys", map[string]any{"kind": "project"})
	require.Equal(t, http.StatusCreated, status, body)
	require.Equal(t, "project", body["kind"])
	status, body = k.call("Token "+body["key"].(string), "GET", "/memories", nil)
	require.Equal(t, http.StatusForbidden, status, "a project key names its user per request: %v", body)
	require.Contains(t, body["detail"], "project key")
}
