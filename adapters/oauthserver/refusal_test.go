package oauthserver_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/oauthserver"
	"github.com/engram-memory/engram/ports"
)

func TestRegistrationRefusals(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name string
		body map[string]any
		code string
	}{
		{"NonLoopbackHTTP", map[string]any{"redirect_uris": []string{"http://evil.example/cb"}}, "invalid_redirect_uri"},
		{"CustomScheme", map[string]any{"redirect_uris": []string{"cursor://cb"}}, "invalid_redirect_uri"},
		{"Fragment", map[string]any{"redirect_uris": []string{"https://a.example/cb#x"}}, "invalid_redirect_uri"},
		{"NoRedirect", map[string]any{"client_name": "x"}, "invalid_redirect_uri"},
		{"ConfidentialClient", map[string]any{"redirect_uris": []string{"https://a.example/cb"}, "token_endpoint_auth_method": "client_secret_basic"}, "invalid_client_metadata"},
		{"ImplicitGrant", map[string]any{"redirect_uris": []string{"https://a.example/cb"}, "grant_types": []string{"implicit"}}, "invalid_client_metadata"},
		{"LongName", map[string]any{"redirect_uris": []string{"https://a.example/cb"}, "client_name": strings.Repeat("n", 201)}, "invalid_client_metadata"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := f.register(t, c.body)
			require.Equal(t, http.StatusBadRequest, status, out)
			require.Equal(t, c.code, out["error"], out)
		})
	}
	for _, ok := range []string{"http://localhost:1234/cb", "http://[::1]:9/cb", "https://claude.ai/api/mcp/auth_callback"} {
		status, out := f.register(t, map[string]any{"redirect_uris": []string{ok}})
		require.Equal(t, http.StatusCreated, status, "%s: %v", ok, out)
	}
}

func TestRegistrationBodyIsBounded(t *testing.T) {
	f := newFixture(t, nil)
	status, out := f.register(t, map[string]any{"redirect_uris": []string{"https://a.example/cb"}, "pad": strings.Repeat("x", 20<<10)})
	require.Equal(t, http.StatusRequestEntityTooLarge, status)
	require.Equal(t, "invalid_client_metadata", out["error"])
}

func TestRegistrationIsRateLimitedPerIP(t *testing.T) {
	f := newFixture(t, func(c *oauthserver.Config) { c.RegisterLimit = ports.RateLimit{Burst: 2, Period: time.Hour} })
	for range 2 {
		status, _ := f.register(t, map[string]any{"redirect_uris": []string{"https://a.example/cb"}})
		require.Equal(t, http.StatusCreated, status)
	}
	status, out := f.register(t, map[string]any{"redirect_uris": []string{"https://a.example/cb"}})
	require.Equal(t, http.StatusTooManyRequests, status, out)
}

func TestAuthorizeRefusals(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	t.Run("UnknownClientIsAPageNotARedirect", func(t *testing.T) {
		status, page, _ := consent(t, browser(t), f.authorizeURL("egc_nobody", newPKCE(), nil))
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, page, "invalid_request")
		require.Contains(t, page, "unknown client_id")
	})
	t.Run("MismatchedRedirectIsAPage", func(t *testing.T) {
		status, page, _ := consent(t, browser(t), f.authorizeURL(id, newPKCE(), url.Values{"redirect_uri": {"http://127.0.0.1:33418/other"}}))
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, page, "redirect_uri does not match")
	})
	t.Run("LoopbackPortMayDiffer", func(t *testing.T) {
		status, _, _ := consent(t, browser(t), f.authorizeURL(id, newPKCE(), url.Values{"redirect_uri": {"http://127.0.0.1:40000/oauth/callback"}}))
		require.Equal(t, http.StatusOK, status)
	})
	redirected := func(t *testing.T, extra url.Values) url.Values {
		t.Helper()
		res, err := browser(t).Get(f.authorizeURL(id, newPKCE(), extra))
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		loc, _ := url.Parse(res.Header.Get("Location"))
		return loc.Query()
	}
	t.Run("PlainPKCERefused", func(t *testing.T) {
		q := redirected(t, url.Values{"code_challenge_method": {"plain"}})
		require.Equal(t, "invalid_request", q.Get("error"))
	})
	t.Run("MissingPKCERefused", func(t *testing.T) {
		q := redirected(t, url.Values{"code_challenge": {""}})
		require.Equal(t, "invalid_request", q.Get("error"))
		require.Equal(t, "st-1", q.Get("state"))
	})
	t.Run("OperatorScopeRefused", func(t *testing.T) {
		q := redirected(t, url.Values{"scope": {"memories:read keys:project"}})
		require.Equal(t, "invalid_scope", q.Get("error"))
	})
	t.Run("ForeignResourceRefused", func(t *testing.T) {
		q := redirected(t, url.Values{"resource": {"https://other.example/mcp"}})
		require.Equal(t, "invalid_target", q.Get("error"))
	})
	t.Run("TokenResponseTypeRefused", func(t *testing.T) {
		q := redirected(t, url.Values{"response_type": {"token"}})
		require.Equal(t, "unsupported_response_type", q.Get("error"))
	})
}

func TestWrongSecretIsClearAndAttemptsAreLimited(t *testing.T) {
	f := newFixture(t, func(c *oauthserver.Config) {
		c.SignInUserLimit = ports.RateLimit{Burst: 3, Period: time.Hour}
		c.SignInIPLimit = ports.RateLimit{Burst: 5, Period: time.Hour}
	})
	id := f.client(t)
	c := browser(t)
	attempt := func(user, org, secret string) (int, string) {
		_, _, form := consent(t, c, f.authorizeURL(id, newPKCE(), nil))
		form.Set("user", user)
		form.Set("org", org)
		form.Set("secret", secret)
		form.Set("action", "allow")
		res, body := f.submit(t, c, form)
		return res.StatusCode, body
	}
	for i := range 3 {
		status, body := attempt("alice", "acme", fmt.Sprintf("wrong-%d", i))
		require.Equal(t, http.StatusUnauthorized, status)
		require.Contains(t, body, "Wrong user, organisation, password or one-time code.")
		require.Contains(t, body, `role="alert"`)
	}
	// alice is now locked for an hour, even with her right password...
	status, body := attempt("alice", "acme", testPassword)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Contains(t, body, "Too many sign-in attempts for this user")
	// ...while another user from the same address still has attempts,
	// until the address's own limit is reached.
	status, _ = attempt("local", "local", "wrong")
	require.Equal(t, http.StatusUnauthorized, status)
	status, body = attempt("local", "local", f.code)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Contains(t, body, "Too many sign-in attempts from your address")
}

func TestTokenRefusals(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	p := newPKCE()
	code := f.signInAndAllow(t, browser(t), id, p, "alice", "acme", testPassword)
	base := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {id},
		"redirect_uri": {redirectURI}, "code_verifier": {p.verifier}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range base {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"UnknownClient", with("client_id", "egc_nobody"), 401, "invalid_client"},
		{"OtherClient", with("client_id", f.client(t)), 400, "invalid_grant"},
		{"MismatchedRedirect", with("redirect_uri", "http://127.0.0.1:33418/other"), 400, "invalid_grant"},
		{"MissingVerifier", with("code_verifier", ""), 400, "invalid_grant"},
		{"WrongVerifier", with("code_verifier", newPKCE().verifier), 400, "invalid_grant"},
		{"UnknownCode", with("code", "made-up"), 400, "invalid_grant"},
		{"UnsupportedGrant", with("grant_type", "password"), 400, "unsupported_grant_type"},
	}
	for _, c := range cases {
		status, out := f.tokenReq(t, c.form, nil)
		require.Equal(t, c.status, status, "%s: %v", c.name, out)
		require.Equal(t, c.code, out["error"], "%s: %v", c.name, out)
	}
	// None of the refusals spent the code.
	status, tok := f.exchange(t, id, code, p)
	require.Equal(t, http.StatusOK, status, tok)
}

func TestReusedCodeRevokesTheFamily(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	p := newPKCE()
	code := f.signInAndAllow(t, browser(t), id, p, "alice", "acme", testPassword)
	status, tok := f.exchange(t, id, code, p)
	require.Equal(t, http.StatusOK, status)
	status, out := f.exchange(t, id, code, p)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_grant", out["error"])
	require.Contains(t, out["error_description"], "already used")
	status, out = f.refresh(t, id, tok["refresh_token"].(string))
	require.Equal(t, http.StatusBadRequest, status, "the refresh token from the reused code is revoked too")
	require.Equal(t, "invalid_grant", out["error"])
}

func TestReusedRefreshTokenRevokesTheFamily(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	p := newPKCE()
	code := f.signInAndAllow(t, browser(t), id, p, "alice", "acme", testPassword)
	_, tok := f.exchange(t, id, code, p)
	r1 := tok["refresh_token"].(string)
	status, tok2 := f.refresh(t, id, r1)
	require.Equal(t, http.StatusOK, status)
	// An attacker replays the old refresh token: refused, and the
	// legitimate client's newer one dies with the family.
	status, out := f.refresh(t, id, r1)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_grant", out["error"])
	status, _ = f.refresh(t, id, tok2["refresh_token"].(string))
	require.Equal(t, http.StatusBadRequest, status)
}

func TestRevokeEndsTheFamily(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	p := newPKCE()
	code := f.signInAndAllow(t, browser(t), id, p, "alice", "acme", testPassword)
	_, tok := f.exchange(t, id, code, p)
	res, err := http.PostForm(f.srv.URL+oauthserver.RevokePath, url.Values{"token": {tok["refresh_token"].(string)}, "client_id": {id}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	status, _ := f.refresh(t, id, tok["refresh_token"].(string))
	require.Equal(t, http.StatusBadRequest, status)
	// RFC 7009 §2.2: an unknown token is answered 200 too.
	res, err = http.PostForm(f.srv.URL+oauthserver.RevokePath, url.Values{"token": {"never-issued"}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}

func TestDPoPProofBindsTheAccessToken(t *testing.T) {
	f := newFixture(t, nil)
	id := f.client(t)
	p := newPKCE()
	code := f.signInAndAllow(t, browser(t), id, p, "alice", "acme", testPassword)
	status, tok := f.tokenReq(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {id},
		"redirect_uri": {redirectURI}, "code_verifier": {p.verifier}}, http.Header{"Dpop": {"proof-1"}})
	require.Equal(t, http.StatusOK, status, tok)
	require.Equal(t, "DPoP", tok["token_type"])
	require.Equal(t, "jkt-of-proof-1", claims(t, tok["access_token"])["jkt"])
}
