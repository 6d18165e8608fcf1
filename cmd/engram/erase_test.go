package main

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

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// privacySystem is the whole engramd stack in zero-config mode behind a
// loopback listener, with a client per principal.
type privacySystem struct {
	sys *wiring.System
	url string
	// close closes sys once (canarySystem); nil for newPrivacySystem.
	close func() error
}

func newPrivacySystem(t *testing.T, dataDir string) *privacySystem {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg, err := config.Load([]string{"--addr", ts.Listener.Addr().String(), "--data-dir", dataDir}, func(string) string { return "" })
	require.NoError(t, err)
	sys, err := wiring.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ts.Config.Handler = sys.Handler()
	ts.Start()
	t.Cleanup(func() { ts.Close(); _ = sys.Close() })
	return &privacySystem{sys: sys, url: ts.URL}
}

func (p *privacySystem) token(t *testing.T, org, user string, scopes ...domain.Scope) string {
	t.Helper()
	if scopes == nil {
		scopes = domain.DefaultUserScopes
	}
	tok, err := p.sys.MintLocal(jwtauth.Claims{Subject: user, OrgID: org, Scopes: scopes})
	require.NoError(t, err)
	return tok
}

func (p *privacySystem) do(t *testing.T, tok, method, path, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return res.StatusCode, out, res.Header
}

// raw GETs path and returns the body, requiring 200.
func (p *privacySystem) raw(t *testing.T, tok, path string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.url+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	return string(body)
}

func (p *privacySystem) count(t *testing.T, tok string) int {
	t.Helper()
	status, body, _ := p.do(t, tok, http.MethodGet, "/api/v1/memories", "")
	require.Equal(t, http.StatusOK, status)
	return len(body["items"].([]any))
}

// TestEraseOverHTTP drives erasure through the REST API of the whole
// stack: DELETE /me answers 202 with a job, a second request joins it, the
// subject's writes are refused until it is done, nobody else can see or
// start it, and it erases the caller only.
func TestEraseOverHTTP(t *testing.T) {
	p := newPrivacySystem(t, t.TempDir())
	alice, bob := p.token(t, "acme", "alice"), p.token(t, "acme", "bob")
	for _, tok := range []string{alice, bob} {
		for _, text := range []string{"my passport is X123", "I live at 1 Main St"} {
			status, _, _ := p.do(t, tok, http.MethodPost, "/api/v1/memories", `{"text":"`+text+`"}`)
			require.Equal(t, http.StatusCreated, status)
		}
	}

	doc := p.raw(t, alice, "/api/v1/me/export")
	require.Contains(t, doc, "my passport is X123")
	require.Contains(t, doc, `"format":"engram-subject-access"`)
	require.NotContains(t, doc, `"user_id":"bob"`, "only the caller's data")

	status, job, hdr := p.do(t, alice, http.MethodDelete, "/api/v1/me", "")
	require.Equal(t, http.StatusAccepted, status)
	id := job["id"].(string)
	require.Equal(t, "/api/v1/erasures/"+id, hdr.Get("Location"))
	require.Contains(t, []any{"pending", "running"}, job["status"])
	status, again, _ := p.do(t, alice, http.MethodDelete, "/api/v1/me", "")
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, id, again["id"], "a second request joins the job")

	status, _, _ = p.do(t, alice, http.MethodPost, "/api/v1/memories", `{"text":"written while erasing"}`)
	require.Equal(t, http.StatusConflict, status, "the subject's writes are refused")

	status, _, _ = p.do(t, bob, http.MethodGet, "/api/v1/erasures/"+id, "")
	require.Equal(t, http.StatusNotFound, status, "another user cannot see the job")
	outsider := p.token(t, "evil", "alice", domain.ScopePrivacyAdmin, domain.ScopeMemoriesRead)
	status, _, _ = p.do(t, outsider, http.MethodGet, "/api/v1/erasures/"+id, "")
	require.Equal(t, http.StatusNotFound, status, "nor an admin of another org")
	status, _, _ = p.do(t, bob, http.MethodPost, "/api/v1/erasures", `{"user":"alice"}`)
	require.Equal(t, http.StatusForbidden, status, "erasing another user needs privacy:admin")
	status, _, _ = p.do(t, outsider, http.MethodPost, "/api/v1/erasures", `{"user":"bob"}`)
	require.Equal(t, http.StatusAccepted, status, "an admin erases in their own org only")
	status, _, _ = p.do(t, outsider, http.MethodPost, "/api/v1/erasures", `{}`)
	require.Equal(t, http.StatusBadRequest, status, "an empty body never means the whole org")

	require.NoError(t, p.sys.Privacy.RunPending(context.Background()))
	status, job, _ = p.do(t, alice, http.MethodGet, "/api/v1/erasures/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "done", job["status"])
	require.EqualValues(t, 2, job["counts"].(map[string]any)["memories"])
	require.Zero(t, p.count(t, alice))
	require.Equal(t, 2, p.count(t, bob), "bob of acme was not erased by evil's admin")

	admin := p.token(t, "acme", "admin", domain.ScopePrivacyAdmin)
	status, trail, _ := p.do(t, admin, http.MethodGet, "/api/v1/audit", "")
	require.Equal(t, http.StatusOK, status)
	events := trail["events"].([]any)
	require.Len(t, events, 4, "export, requested, joined, done")
	require.Equal(t, "erasure.done", events[0].(map[string]any)["action"])
	status, _, _ = p.do(t, bob, http.MethodGet, "/api/v1/audit", "")
	require.Equal(t, http.StatusForbidden, status)
	status, trail, _ = p.do(t, outsider, http.MethodGet, "/api/v1/audit", "")
	require.Equal(t, http.StatusOK, status)
	require.Len(t, trail["events"].([]any), 2, "evil sees its own erasure of its bob (requested, done), nothing of acme")

	status, _, _ = p.do(t, alice, http.MethodPost, "/api/v1/memories", `{"text":"a fresh start"}`)
	require.Equal(t, http.StatusCreated, status, "writes are accepted again once the job is done")
}

// TestEraseCommand runs engram erase --here against a data directory
// engramd left, for one user and then the whole org.
func TestEraseCommand(t *testing.T) {
	dir := t.TempDir()
	p := newPrivacySystem(t, dir)
	alice, bob := p.token(t, "acme", "alice"), p.token(t, "acme", "bob")
	other := p.token(t, "other", "alice")
	for _, tok := range []string{alice, bob, other} {
		status, _, _ := p.do(t, tok, http.MethodPost, "/api/v1/memories", `{"text":"remember me"}`)
		require.Equal(t, http.StatusCreated, status)
	}

	var out, errOut bytes.Buffer
	require.NoError(t, runExport(context.Background(), []string{"--subject", "--data-dir", dir, "--org", "acme", "--user", "bob"}, noEnv, &out, &errOut), errOut.String())
	var sar map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &sar), out.String())
	require.Equal(t, "engram-subject-access", sar["format"])
	require.Len(t, sar["memories"], 1)
	require.Equal(t, "bob", sar["subject"].(map[string]any)["user_id"])
	out.Reset()

	err := runErase(context.Background(), []string{"--data-dir", dir, "--org", "acme", "--user", "alice", "--here"}, noEnv, &out, &errOut)
	require.NoError(t, err, errOut.String())
	var job map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &job))
	require.Equal(t, "done", job["status"])
	require.EqualValues(t, 1, job["counts"].(map[string]any)["memories"])
	require.Zero(t, p.count(t, alice))
	require.Equal(t, 1, p.count(t, bob))

	out.Reset()
	require.NoError(t, runErase(context.Background(), []string{"--data-dir", dir, "--org", "acme", "--whole-org", "--here"}, noEnv, &out, &errOut))
	require.Zero(t, p.count(t, bob))
	require.Equal(t, 1, p.count(t, other), "another org is untouched")

	err = runErase(context.Background(), []string{"--data-dir", dir, "--org", "acme"}, noEnv, &out, &errOut)
	require.ErrorContains(t, err, "usage", "neither --user nor --whole-org")
}

func noEnv(string) string { return "" }

// TestNoCallerReachesAnotherSubjectOverHTTP tries every way a caller could
// name someone else on the REST surface: query parameters and bodies on
// the /me routes, an org field on the admin route, another org's and an
// org-wide job id. None reaches anyone but the caller (or the admin's own
// org).
func TestNoCallerReachesAnotherSubjectOverHTTP(t *testing.T) {
	p := newPrivacySystem(t, t.TempDir())
	alice, bob := p.token(t, "acme", "alice"), p.token(t, "acme", "bob")
	eve := p.token(t, "evil", "eve")
	evilAdmin := p.token(t, "evil", "admin", domain.ScopePrivacyAdmin, domain.ScopeMemoriesRead)
	for _, tok := range []string{alice, bob, eve} {
		status, _, _ := p.do(t, tok, http.MethodPost, "/api/v1/memories", `{"text":"secret of the caller"}`)
		require.Equal(t, http.StatusCreated, status)
	}

	// /me/export: a tenant parameter is refused; any other is ignored.
	for _, q := range []string{"?user_id=bob", "?org_id=acme", "?org_id=acme&user_id=alice"} {
		status, _, _ := p.do(t, eve, http.MethodGet, "/api/v1/me/export"+q, "")
		require.Equal(t, http.StatusBadRequest, status, q)
	}
	doc := p.raw(t, eve, "/api/v1/me/export?user=bob&subject=acme")
	require.Contains(t, doc, `"user_id":"eve"`)
	require.NotContains(t, doc, `"user_id":"bob"`)
	require.NotContains(t, doc, `"org_id":"acme"`)

	// The admin route acts in the caller's org only; an org field is
	// refused, not honoured.
	status, _, _ := p.do(t, evilAdmin, http.MethodPost, "/api/v1/erasures", `{"user_id":"bob","org_id":"acme"}`)
	require.Equal(t, http.StatusBadRequest, status, "an org field is refused")
	status, _, _ = p.do(t, evilAdmin, http.MethodPost, "/api/v1/erasures", `{"whole_org":true,"org":"acme"}`)
	require.Equal(t, http.StatusBadRequest, status)
	status, _, _ = p.do(t, eve, http.MethodPost, "/api/v1/erasures", `{"user_id":"eve"}`)
	require.Equal(t, http.StatusForbidden, status, "a user without privacy:admin cannot use the admin route, even for themself")

	// An org-wide job is visible to the org's admins only; no other org
	// sees it.
	acmeAdmin := p.token(t, "acme", "admin", domain.ScopePrivacyAdmin, domain.ScopeMemoriesRead)
	status, orgJob, _ := p.do(t, acmeAdmin, http.MethodPost, "/api/v1/erasures", `{"whole_org":true}`)
	require.Equal(t, http.StatusAccepted, status)
	orgID := orgJob["id"].(string)
	for name, tok := range map[string]string{"a user of the org": bob, "another org's admin": evilAdmin, "another org's user": eve} {
		status, _, _ = p.do(t, tok, http.MethodGet, "/api/v1/erasures/"+orgID, "")
		require.Equal(t, http.StatusNotFound, status, name)
	}
	status, _, _ = p.do(t, acmeAdmin, http.MethodGet, "/api/v1/erasures/"+orgID, "")
	require.Equal(t, http.StatusOK, status)

	// DELETE /me with parameters and a body naming someone else erases the
	// caller, and only the caller.
	status, _, _ = p.do(t, eve, http.MethodDelete, "/api/v1/me?user_id=bob&org_id=acme", "")
	require.Equal(t, http.StatusBadRequest, status, "a tenant parameter is refused")
	status, job, _ := p.do(t, eve, http.MethodDelete, "/api/v1/me?user=bob", `{"user_id":"bob","org_id":"acme"}`)
	require.Equal(t, http.StatusAccepted, status, "a body is not read: the subject is the caller")
	require.NoError(t, p.sys.Privacy.RunPending(context.Background()))
	status, job, _ = p.do(t, evilAdmin, http.MethodGet, "/api/v1/erasures/"+job["id"].(string), "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "done", job["status"])
	require.EqualValues(t, 1, job["counts"].(map[string]any)["memories"], "eve's one memory")
	require.Zero(t, p.count(t, eve))
	status, _, _ = p.do(t, acmeAdmin, http.MethodGet, "/api/v1/erasures/"+orgID, "")
	require.Equal(t, http.StatusOK, status)
	require.Zero(t, p.count(t, alice), "acme was erased by its own admin")
	require.Zero(t, p.count(t, bob))
}
