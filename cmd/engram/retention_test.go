package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestExpiryAndRetentionOverHTTP drives issue 16's expiry through the
// whole stack: ttl and expires_at on add and update, the org's retention
// policy (an admin's only), an app's default TTL, and an expired memory
// gone from every read before the sweeper erases it.
func TestExpiryAndRetentionOverHTTP(t *testing.T) {
	p := newPrivacySystem(t, t.TempDir())
	alice := p.token(t, "acme", "alice")
	admin := p.token(t, "acme", "admin", domain.ScopePrivacyAdmin)

	status, _, _ := p.do(t, alice, http.MethodPut, "/api/v1/retention", `{"query_log_ttl":60}`)
	require.Equal(t, http.StatusForbidden, status, "the policy is an administrator's")
	status, body, _ := p.do(t, admin, http.MethodPut, "/api/v1/retention", `{"query_log_ttl":-1}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body["detail"], "query_log_ttl")
	status, body, _ = p.do(t, admin, http.MethodPut, "/api/v1/retention",
		`{"access_log_ttl":2592000,"query_log_ttl":604800,"feedback_ttl":0,"app_ttls":{"scratch":3600}}`)
	require.Equal(t, http.StatusOK, status, body)
	status, body, _ = p.do(t, admin, http.MethodGet, "/api/v1/retention", "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 604800, body["query_log_ttl"])
	require.EqualValues(t, 3600, body["app_ttls"].(map[string]any)["scratch"])
	other := p.token(t, "evil", "admin", domain.ScopePrivacyAdmin)
	_, body, _ = p.do(t, other, http.MethodGet, "/api/v1/retention", "")
	require.Empty(t, body["app_ttls"], "another org's policy is its own")

	status, body, _ = p.do(t, alice, http.MethodPost, "/api/v1/memories", `{"text":"scratch note","app":"scratch"}`)
	require.Equal(t, http.StatusCreated, status)
	at, err := time.Parse(time.RFC3339Nano, body["expires_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(time.Hour), at, time.Minute, "the app's default TTL")
	status, body, _ = p.do(t, alice, http.MethodPost, "/api/v1/memories", `{"text":"kept for good","app":"scratch","ttl":0}`)
	require.Equal(t, http.StatusCreated, status)
	require.Nil(t, body["expires_at"], "ttl 0 overrides the app's default")
	kept := body["id"].(string)
	status, body, _ = p.do(t, alice, http.MethodPost, "/api/v1/memories", `{"text":"both","ttl":5,"expires_at":"2099-01-01T00:00:00Z"}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body["detail"], "ttl")
	status, _, _ = p.do(t, alice, http.MethodPost, "/api/v1/memories", `{"text":"past","expires_at":"2001-01-01T00:00:00Z"}`)
	require.Equal(t, http.StatusBadRequest, status)

	status, body, _ = p.do(t, alice, http.MethodPatch, "/api/v1/memories/"+kept, `{"expires_at":"2099-01-01T00:00:00Z"}`)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "2099-01-01T00:00:00Z", body["expires_at"])
	status, body, _ = p.do(t, alice, http.MethodPatch, "/api/v1/memories/"+kept, `{"ttl":1}`)
	require.Equal(t, http.StatusOK, status, body)

	time.Sleep(1100 * time.Millisecond)
	status, _, _ = p.do(t, alice, http.MethodGet, "/api/v1/memories/"+kept, "")
	require.Equal(t, http.StatusNotFound, status, "expired: gone before any sweep")
	status, body, _ = p.do(t, alice, http.MethodGet, "/api/v1/memories?q=kept+for+good", "")
	require.Equal(t, http.StatusOK, status)
	for _, r := range body["items"].([]any) {
		require.NotEqual(t, kept, r.(map[string]any)["id"], "search never returns it")
	}
	swept, err := p.sys.Privacy.Sweep(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, swept[domain.StoreMemories])
	require.Equal(t, 1, p.count(t, alice), "the scratch note (an hour to live) is left")
}
