package mcpserver_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
)

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// post sends one raw JSON-RPC message the way a Streamable HTTP client does.
func (h *harness) post(path, authz, sessionID, body string, header ...string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.public+path, strings.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if sessionID != "" {
		req.Header.Set("Mcp-Session-Id", sessionID)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	h.t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func TestNoTokenIs401WithMetadataLink(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/mcp", "/mcp/sse", "/mcp/cursor/http/alice"} {
		resp := h.post(path, "", "", initializeBody)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		challenge := resp.Header.Get("WWW-Authenticate")
		require.Equal(t, `Bearer resource_metadata="`+h.public+`/.well-known/oauth-protected-resource"`, challenge, path)
	}
}

func TestRefusedTokenChallengeCarriesTheError(t *testing.T) {
	h := newHarness(t)
	cases := map[string]string{
		"garbage":        "Bearer not.a.jwt",
		"other audience": "Bearer " + h.mint(jwtauth.Claims{Subject: "alice", OrgID: org, Audience: "https://other.example"}),
	}
	for name, authz := range cases {
		resp := h.post("/mcp", authz, "", initializeBody)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
		challenge := resp.Header.Get("WWW-Authenticate")
		require.Contains(t, challenge, `error="invalid_token"`, name)
		require.Contains(t, challenge, `resource_metadata="`+h.public+`/.well-known/oauth-protected-resource"`, name)
	}
}

func TestProtectedResourceMetadata(t *testing.T) {
	h := newHarness(t)
	resp, err := http.Get(h.public + "/.well-known/oauth-protected-resource")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var md map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&md))
	require.Equal(t, h.public, md["resource"])
	require.Equal(t, []any{"https://auth.example.com"}, md["authorization_servers"])
	require.Equal(t, []any{"header"}, md["bearer_methods_supported"])
	require.Contains(t, md["scopes_supported"], "memories:write")
	require.Contains(t, md["dpop_signing_alg_values_supported"], "EdDSA")
}

func TestPathUserMustBeTheTokenSubject(t *testing.T) {
	h := newHarness(t)
	resp := h.post("/mcp/cursor/http/bob", "Bearer "+h.token("alice"), "", initializeBody)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp = h.post("/mcp/cursor/sse/bob", "Bearer "+h.token("alice"), "", initializeBody)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	cs := h.connect("/mcp/Cursor/http/alice", h.token("alice"), "Claude Desktop")
	added := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Filed under the path's client"})
	require.Equal(t, "cursor", added.Memory.App, "the path's client becomes the app")
}

func TestForeignOriginRefused(t *testing.T) {
	h := newHarness(t)
	resp := h.post("/mcp", "Bearer "+h.token("alice"), "", initializeBody, "Origin", "http://evil.example")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp = h.post("/mcp", "Bearer "+h.token("alice"), "", initializeBody, "Origin", "null")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp = h.post("/mcp", "Bearer "+h.token("alice"), "", initializeBody, "Origin", h.public)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRebindingHostRefused(t *testing.T) {
	h := newHarness(t)
	req, err := http.NewRequest(http.MethodPost, h.public+"/mcp", strings.NewReader(initializeBody))
	require.NoError(t, err)
	req.Host = "attacker.example:80"
	req.Header.Set("Authorization", "Bearer "+h.token("alice"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestSessionIsBoundToItsPrincipal(t *testing.T) {
	h := newHarness(t)
	resp := h.post("/mcp", "Bearer "+h.token("alice"), "", initializeBody)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sid := resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, sid)
	_, _ = io.Copy(io.Discard, resp.Body)

	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	stolen := h.post("/mcp", "Bearer "+h.token("bob"), sid, list, "Mcp-Protocol-Version", "2025-06-18")
	require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, stolen.StatusCode)

	viaPath := h.post("/mcp/cursor/http/alice", "Bearer "+h.token("alice"), sid, list, "Mcp-Protocol-Version", "2025-06-18")
	require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, viaPath.StatusCode, "a session opened on /mcp is not usable through another client path")

	own := h.post("/mcp", "Bearer "+h.token("alice"), sid, list, "Mcp-Protocol-Version", "2025-06-18")
	require.Equal(t, http.StatusOK, own.StatusCode)
}

func TestEachRequestIsReauthenticated(t *testing.T) {
	h := newHarness(t)
	resp := h.post("/mcp", "Bearer "+h.token("alice"), "", initializeBody)
	sid := resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, sid)
	next := h.post("/mcp", "", sid, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, "Mcp-Protocol-Version", "2025-06-18")
	require.Equal(t, http.StatusUnauthorized, next.StatusCode, "a session id is no credential")
}

func TestSSETransport(t *testing.T) {
	h := newHarness(t)
	tr := &mcp.SSEClientTransport{Endpoint: h.public + "/mcp/sse", HTTPClient: h.client(h.token("alice"), nil)}
	cs := h.connectWith(tr, "Old Client")
	added := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Written over SSE"})
	require.Equal(t, "old-client", added.Memory.App)
	require.Len(t, callOK[listJSON](t, cs, "list_memories", nil).Items, 1)

	bob := h.connect("/mcp", h.token("bob"), "test")
	require.Empty(t, callOK[listJSON](t, bob, "list_memories", nil).Items)
}

func TestDPoPBoundTokenWorksAndIsNotABearer(t *testing.T) {
	h := newHarness(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	prover, err := jwtauth.NewDPoPProver(priv)
	require.NoError(t, err)
	tok := h.mint(jwtauth.Claims{Subject: "alice", OrgID: org, JKT: prover.JKT()})

	tr := &mcp.StreamableClientTransport{Endpoint: h.public + "/mcp", HTTPClient: h.client(tok, prover), MaxRetries: -1}
	cs := h.connectWith(tr, "dpop-client")
	added := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Sent with a DPoP proof"})
	require.True(t, added.Created)

	resp := h.post("/mcp", "Bearer "+tok, "", initializeBody)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a bound token without its proof is refused")
}

func TestServeTransportActsAsThePrincipal(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serverSide, clientSide := mcp.NewInMemoryTransports()
	p := domain.Principal{OrgID: org, UserID: "carol", Scopes: domain.DefaultUserScopes}
	done := make(chan error, 1)
	go func() { done <- h.srv.ServeTransport(ctx, p, serverSide) }()
	cs := h.connectWith(clientSide, "Local Tool")
	added := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Local stdio memory"})
	require.Equal(t, "local-tool", added.Memory.App)

	page, err := h.mem.List(ctx, p, domain.ListQuery{}, "")
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.NoError(t, cs.Close())
	require.NoError(t, <-done)
}

func TestConfiguredAndLoopbackOriginsAllowed(t *testing.T) {
	h := newHarness(t, func(su *setup) {
		su.Config.AllowedOrigins = []string{"https://app.example.com/"}
	})
	for origin, want := range map[string]int{
		"https://app.example.com":   http.StatusOK,
		"http://localhost:3000":     http.StatusOK,
		"http://[::1]:5173":         http.StatusOK,
		"https://app.example.com.x": http.StatusForbidden,
		"http://app.example.com":    http.StatusForbidden,
	} {
		resp := h.post("/mcp", "Bearer "+h.token("alice"), "", initializeBody, "Origin", origin)
		require.Equal(t, want, resp.StatusCode, origin)
	}
}

func TestSSESessionIsBoundToItsPrincipal(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.public+"/mcp/sse", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+h.token("alice"))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The first event names the URL to POST to.
	sc := bufio.NewScanner(resp.Body)
	endpoint := ""
	for endpoint == "" && sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			endpoint = data
		}
	}
	require.True(t, strings.HasPrefix(endpoint, "/mcp/sse?sessionid="), endpoint)

	stolen := h.post(endpoint, "Bearer "+h.token("bob"), "", initializeBody)
	require.Equal(t, http.StatusForbidden, stolen.StatusCode)
	anonymous := h.post(endpoint, "", "", initializeBody)
	require.Equal(t, http.StatusUnauthorized, anonymous.StatusCode)
	unknown := h.post("/mcp/sse?sessionid=nope", "Bearer "+h.token("alice"), "", initializeBody)
	require.Equal(t, http.StatusNotFound, unknown.StatusCode)
	own := h.post(endpoint, "Bearer "+h.token("alice"), "", initializeBody)
	require.Equal(t, http.StatusAccepted, own.StatusCode)
}

func TestOversizeBodyRefused(t *testing.T) {
	h := newHarness(t, func(su *setup) { su.Config.MaxBodyBytes = 4096 })
	big := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"pad":"` + strings.Repeat("x", 8192) + `"}}`
	resp := h.post("/mcp", "Bearer "+h.token("alice"), "", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

func TestSSESessionsAreBounded(t *testing.T) {
	h := newHarness(t, func(su *setup) { su.Config.MaxSSESessions = 1 })
	tr := &mcp.SSEClientTransport{Endpoint: h.public + "/mcp/sse", HTTPClient: h.client(h.token("alice"), nil)}
	h.connectWith(tr, "first")
	req, err := http.NewRequest(http.MethodGet, h.public+"/mcp/sse", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+h.token("alice"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}
