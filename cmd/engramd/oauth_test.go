package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
)

// startOnKnownPort starts engramd with its public URL equal to the address
// it listens on, as a local user's engramd is: the authorization server's
// issuer and every endpoint it names must be reachable.
func startOnKnownPort(t *testing.T, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	if env == nil {
		env = map[string]string{}
	}
	env["ENGRAM_ADDR"], env["ENGRAM_PUBLIC_URL"] = addr, "http://"+addr
	base, _, out := startEngramd(t, env)
	return base, out
}

var signInCodeRe = regexp.MustCompile(`one-time code ([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})`)

func getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	res, err := http.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, u)
	var m map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
	return m
}

// authorizeAs registers a client and runs the browser part with plain HTTP,
// signing in with secret; it returns what the token request needs.
func authorizeAs(t *testing.T, asm map[string]any, user, org, secret string) (clientID, cb, verifier, code string) {
	t.Helper()
	cb = "http://127.0.0.1:1/callback"
	res, err := http.Post(asm["registration_endpoint"].(string), "application/json",
		strings.NewReader(`{"client_name":"go-test","redirect_uris":["`+cb+`"],"token_endpoint_auth_method":"none"}`))
	require.NoError(t, err)
	var reg map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&reg))
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode, reg)
	clientID = reg["client_id"].(string)

	// 3. The browser: consent page, sign in with the printed code.
	verifier = base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("pkce-verifier-", 4)))
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {cb}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"scope": {"memories:read memories:write"}, "resource": {asm["issuer"].(string) + "/mcp"}}
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = br.Get(asm["authorization_endpoint"].(string) + "?" + q.Encode())
	require.NoError(t, err)
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, string(page))
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	form := url.Values{}
	for _, f := range regexp.MustCompile(`name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(string(page), -1) {
		form.Set(f[1], strings.ReplaceAll(f[2], "&#43;", "+"))
	}
	form.Set("user", user)
	form.Set("org", org)
	form.Set("secret", secret)
	form.Set("action", "allow")
	res, err = br.PostForm(asm["authorization_endpoint"].(string), form)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode, string(body))
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	code = loc.Query().Get("code")
	require.NotEmpty(t, code, loc.String())

	return clientID, cb, verifier, code
}

// An MCP client with no token discovers the built-in authorization server
// from the 401 and the protected-resource metadata, registers, signs the
// local user in with the one-time code engramd printed, gets a token and
// lists the tools: what mcp-remote and Claude's connectors do, in Go.
func TestZeroConfigOAuthFlowReachesMCP(t *testing.T) {
	base, out := startOnKnownPort(t, nil)
	m := signInCodeRe.FindStringSubmatch(out.String())
	require.NotNil(t, m, "engramd prints a one-time sign-in code:\n%s", out.String())

	// 1. Discovery.
	res, err := http.Post(base+"/mcp", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Contains(t, res.Header.Get("WWW-Authenticate"), base+"/.well-known/oauth-protected-resource")
	prm := getJSON(t, base+"/.well-known/oauth-protected-resource")
	require.Equal(t, []any{base}, prm["authorization_servers"])
	asm := getJSON(t, base+"/.well-known/oauth-authorization-server")
	require.Equal(t, base, asm["issuer"])

	// 2. Registration and 3. the browser, signing in with the printed code.
	clientID, cb, verifier, code := authorizeAs(t, asm, "local", "local", m[1])

	// 4. Token.
	res, err = http.PostForm(asm["token_endpoint"].(string), url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"client_id": {clientID}, "redirect_uri": {cb}, "code_verifier": {verifier}})
	require.NoError(t, err)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&tok))
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, tok)
	access := tok["access_token"].(string)

	// 5. MCP with the token: the tools are listed; the REST API takes it too.
	hc := &http.Client{Transport: bearer{access}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "oauth-test", Version: "1"}, nil).
		Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: hc, MaxRetries: -1}, nil)
	require.NoError(t, err)
	defer cs.Close()
	tools, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	require.NotEmpty(t, tools.Tools)
	status, b := do(t, http.MethodGet, base+"/api/v1/memories", access, "")
	require.Equal(t, http.StatusOK, status, b)
	// The scopes granted are the scopes the token carries.
	status, _ = do(t, http.MethodGet, base+"/api/v1/export", access, "")
	require.Equal(t, http.StatusForbidden, status)
}

// A token request with a DPoP proof gets a token bound to the proof's key:
// accepted with DPoP proofs, refused as a Bearer token.
func TestOAuthTokenIsDPoPBoundWhenProved(t *testing.T) {
	base, out := startOnKnownPort(t, nil)
	m := signInCodeRe.FindStringSubmatch(out.String())
	require.NotNil(t, m)
	asm := getJSON(t, base+"/.well-known/oauth-authorization-server")
	require.Contains(t, asm["dpop_signing_alg_values_supported"], "ES256")
	clientID, cb, verifier, code := authorizeAs(t, asm, "local", "local", m[1])
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	prover, err := jwtauth.NewDPoPProver(key)
	require.NoError(t, err)
	proof, err := prover.Proof(http.MethodPost, base+"/token", "")
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "client_id": {clientID}, "redirect_uri": {cb}, "code_verifier": {verifier}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&tok))
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, tok)
	require.Equal(t, "DPoP", tok["token_type"])
	access := tok["access_token"].(string)

	status, _ := do(t, http.MethodGet, base+"/api/v1/memories", access, "")
	require.Equal(t, http.StatusUnauthorized, status, "a bound token is not a Bearer token")
	p2, err := prover.Proof(http.MethodGet, base+"/api/v1/memories", access)
	require.NoError(t, err)
	req, _ = http.NewRequest(http.MethodGet, base+"/api/v1/memories", nil)
	req.Header.Set("Authorization", "DPoP "+access)
	req.Header.Set("DPoP", p2)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// With an external issuer the built-in authorization server is off: its
// endpoints are 404 and the metadata names no issuer of ours.
func TestOAuthServerIsOffWithAnExternalIssuer(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub), "kid": "k1", "alg": "EdDSA", "use": "sig",
		}}})
	}))
	t.Cleanup(jwks.Close)
	base, _, out := startEngramd(t, map[string]string{
		"ENGRAM_AUTH_JWKS_URL": jwks.URL, "ENGRAM_AUTH_ISSUER": "https://idp.example.test", "ENGRAM_AUTH_AUDIENCE": "engram",
	})
	require.NotContains(t, out.String(), "one-time code")
	for _, p := range []string{"/.well-known/oauth-authorization-server", "/authorize"} {
		status, _ := do(t, http.MethodGet, base+p, "", "")
		require.Equal(t, http.StatusNotFound, status, p)
	}
	status, _ := do(t, http.MethodPost, base+"/register", "", `{"redirect_uris":["https://a.example/cb"]}`)
	require.Equal(t, http.StatusNotFound, status)
	prm := getJSON(t, base+"/.well-known/oauth-protected-resource")
	require.NotContains(t, prm, "authorization_servers")
}
