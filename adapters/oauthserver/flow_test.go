package oauthserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/oauthserver"
)

func TestMetadataNamesEveryEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	res, err := http.Get(f.srv.URL + oauthserver.MetadataPath)
	require.NoError(t, err)
	defer res.Body.Close()
	var md map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&md))
	require.Equal(t, f.srv.URL, md["issuer"])
	require.Equal(t, f.srv.URL+"/authorize", md["authorization_endpoint"])
	require.Equal(t, f.srv.URL+"/token", md["token_endpoint"])
	require.Equal(t, f.srv.URL+"/register", md["registration_endpoint"])
	require.Equal(t, f.srv.URL+"/revoke", md["revocation_endpoint"])
	require.Equal(t, []any{"S256"}, md["code_challenge_methods_supported"])
	require.Equal(t, []any{"none"}, md["token_endpoint_auth_methods_supported"])
	require.Contains(t, md["scopes_supported"], "memories:read")
}

func TestCodeFlowWithOneTimeCodeThenRefreshRotates(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	p := newPKCE()
	c := browser(t)
	code := f.signInAndAllow(t, c, id, p, "local", "local", strings.ToLower(f.code))
	status, tok := f.exchange(t, id, code, p)
	require.Equal(t, http.StatusOK, status, tok)
	require.Equal(t, "Bearer", tok["token_type"])
	require.EqualValues(t, 600, tok["expires_in"])
	require.Equal(t, "memories:read memories:write", tok["scope"])
	cl := claims(t, tok["access_token"])
	require.Equal(t, "local", cl["org"])
	require.Equal(t, "local", cl["sub"])
	require.Equal(t, "10m0s", cl["ttl"])
	rt := tok["refresh_token"].(string)

	status, tok2 := f.refresh(t, id, rt)
	require.Equal(t, http.StatusOK, status, tok2)
	require.NotEqual(t, rt, tok2["refresh_token"], "refresh tokens rotate")
	status, tok3 := f.refresh(t, id, tok2["refresh_token"].(string))
	require.Equal(t, http.StatusOK, status, tok3)

	// The one-time code is spent: a second browser cannot use it.
	c2 := browser(t)
	_, _, form := consent(t, c2, f.authorizeURL(id, newPKCE(), nil))
	form.Set("user", "local")
	form.Set("org", "local")
	form.Set("secret", f.code)
	form.Set("action", "allow")
	res, body := f.submit(t, c2, form)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Contains(t, body, "Wrong user, organisation, password or one-time code.")

	// The first browser keeps its session: no sign-in asked.
	_, page, form := consent(t, c, f.authorizeURL(id, newPKCE(), nil))
	require.Contains(t, page, "Signed in as <strong>local (local)</strong>")
	form.Set("action", "allow")
	res, _ = f.submit(t, c, form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestNamedUserSignsInWithPassword(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	p := newPKCE()
	code := f.signInAndAllow(t, browser(t), id, p, "alice", "acme", testPassword)
	status, tok := f.exchange(t, id, code, p)
	require.Equal(t, http.StatusOK, status, tok)
	cl := claims(t, tok["access_token"])
	require.Equal(t, "acme", cl["org"])
	require.Equal(t, "alice", cl["sub"])
}

func TestConsentPageIsLockedDown(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	res, err := browser(t).Get(f.authorizeURL(id, newPKCE(), nil))
	require.NoError(t, err)
	defer res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "frame-ancestors 'none'")
	require.Contains(t, csp, "form-action 'self' http://127.0.0.1:33418")
	require.NotContains(t, csp, "unsafe-inline")
	require.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
	var csrf *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "engram_csrf" {
			csrf = c
		}
	}
	require.NotNil(t, csrf)
	require.True(t, csrf.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, csrf.SameSite)
}

func TestConsentListsRequestedScopesAndEscapesClientName(t *testing.T) {
	f := newFixture(t, nil)
	status, out := f.register(t, map[string]any{"client_name": `<script>alert(1)</script>`, "redirect_uris": []string{redirectURI}})
	require.Equal(t, http.StatusCreated, status)
	_, page, _ := consent(t, browser(t), f.authorizeURL(out["client_id"].(string), newPKCE(), url.Values{"scope": {"memories:read keys:write"}}))
	require.NotContains(t, page, "<script>")
	require.Contains(t, page, "&lt;script&gt;")
	require.Contains(t, page, "<code>memories:read</code>")
	require.Contains(t, page, "<code>keys:write</code>")
	require.NotContains(t, page, "<code>memories:write</code>")
}

func TestCrossSitePostWithoutCSRFTokenIs403(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	c := browser(t)
	_, _, form := consent(t, c, f.authorizeURL(id, newPKCE(), nil))
	form.Set("user", "local")
	form.Set("org", "local")
	form.Set("secret", f.code)
	form.Set("action", "allow")
	form.Del("csrf")
	res, body := f.submit(t, c, form)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body, "CSRF")
	// A fresh client (another site's page) has no cookie at all.
	form.Set("csrf", "guessed")
	res, _ = f.submit(t, browser(t), form)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
}

func TestDenyRedirectsAccessDenied(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	c := browser(t)
	_, _, form := consent(t, c, f.authorizeURL(id, newPKCE(), nil))
	form.Set("action", "deny")
	res, _ := f.submit(t, c, form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	loc, _ := url.Parse(res.Header.Get("Location"))
	require.Equal(t, "access_denied", loc.Query().Get("error"))
	require.Equal(t, "st-1", loc.Query().Get("state"))
}
