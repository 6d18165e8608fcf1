package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// issuerDoc serves a discovery document at path naming issuer, with
// endpoints on the server itself; every other path is 404.
func issuerDoc(t *testing.T, path string, issuer func(base string) string, hits *atomic.Int32) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": issuer(srv.URL), "authorization_endpoint": srv.URL + "/auth",
			"token_endpoint": srv.URL + "/token", "code_challenge_methods_supported": []string{"S256"}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestDiscoveryFallsBackToRFC8414: an issuer with a path and no OpenID
// Connect document is found at RFC 8414's well-known URI, which inserts
// its name before the issuer's path.
func TestDiscoveryFallsBackToRFC8414(t *testing.T) {
	var hits atomic.Int32
	srv := issuerDoc(t, "/.well-known/oauth-authorization-server/tenant/a", func(b string) string { return b + "/tenant/a" }, &hits)
	d := &discovery{issuer: srv.URL + "/tenant/a", client: srv.Client()}
	md, err := d.get(context.Background())
	require.NoError(t, err)
	require.Equal(t, srv.URL+"/token", md.TokenEndpoint)
	require.EqualValues(t, 2, hits.Load(), "OpenID Connect first, then RFC 8414")
	_, err = d.get(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 2, hits.Load(), "the document is cached")
}

// TestDiscoveryRefusesAnotherIssuer: a document naming an issuer other
// than the configured one is refused (OpenID Connect Discovery §4.3).
func TestDiscoveryRefusesAnotherIssuer(t *testing.T) {
	var hits atomic.Int32
	srv := issuerDoc(t, "/.well-known/openid-configuration", func(string) string { return "https://evil.example" }, &hits)
	d := &discovery{issuer: srv.URL, client: srv.Client()}
	_, err := d.get(context.Background())
	require.ErrorContains(t, err, `names the issuer "https://evil.example"`)
}

// TestDiscoveryRetriesLazily: an issuer down at the first sign-in is
// read again on a later one (not before the retry interval), so engramd
// need not restart once it is back.
func TestDiscoveryRetriesLazily(t *testing.T) {
	var hits atomic.Int32
	var up atomic.Bool
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !up.Load() || r.URL.Path != "/.well-known/openid-configuration" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token"})
	}))
	t.Cleanup(srv.Close)
	d := &discovery{issuer: srv.URL, client: srv.Client(), retry: discoveryRetry}
	_, err := d.get(context.Background())
	require.ErrorContains(t, err, "answered 503")
	up.Store(true)
	_, err = d.get(context.Background())
	require.Error(t, err, "within the retry interval the last failure is answered")
	require.EqualValues(t, 2, hits.Load())
	d.retry = 0
	md, err := d.get(context.Background())
	require.NoError(t, err)
	require.Equal(t, srv.URL+"/auth", md.AuthorizationEndpoint)
}

// TestDiscoveryChecksTheDocument: endpoints must be https under an https
// issuer (http only when the issuer itself is), and an issuer that lists
// its PKCE methods must offer S256.
func TestDiscoveryChecksTheDocument(t *testing.T) {
	require.NoError(t, checkEndpoint("https://idp.example", "https://idp.example/token"))
	require.NoError(t, checkEndpoint("http://127.0.0.1:8080", "http://127.0.0.1:8080/token"))
	require.Error(t, checkEndpoint("https://idp.example", "http://idp.example/token"))
	require.Error(t, checkEndpoint("https://idp.example", "/token"))
	require.Error(t, checkEndpoint("https://idp.example", "https://idp.example/token#x"))

	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth",
			"token_endpoint": srv.URL + "/token", "code_challenge_methods_supported": []string{"plain"}})
	}))
	t.Cleanup(srv.Close)
	_, err := (&discovery{issuer: srv.URL, client: srv.Client()}).get(context.Background())
	require.ErrorContains(t, err, "does not offer PKCE S256")
}
