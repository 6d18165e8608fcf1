package mcpserver_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// TestAPIKeysOnMCP: a user key works as Token or Bearer; a project key,
// which needs a user_id per request that MCP tools do not take, is 403.
func TestAPIKeysOnMCP(t *testing.T) {
	var keys *app.KeyService
	h := newHarness(t, func(su *setup) {
		keys = app.NewKeyService(app.KeyDeps{Keys: su.Store})
		su.Deps.Verifier = keys.Verifier(su.Deps.Verifier)
	})
	admin := domain.Principal{OrgID: org, UserID: "alice", Scopes: append([]domain.Scope{domain.ScopeKeysWrite, domain.ScopeKeysProject}, domain.DefaultUserScopes...)}
	_, user, err := keys.CreateKey(context.Background(), admin, app.KeyRequest{})
	require.NoError(t, err)
	_, project, err := keys.CreateKey(context.Background(), admin, app.KeyRequest{Kind: domain.KeyProject})
	require.NoError(t, err)

	for _, authz := range []string{"Token " + user, "Bearer " + user} {
		resp := h.post("/mcp", authz, "", initializeBody)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, authz[:6])
	}
	resp := h.post("/mcp", "Token "+project, "", initializeBody)
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, string(body), "project key")
}
