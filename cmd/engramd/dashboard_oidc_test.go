package main

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startWithIssuer runs engramd trusting iss (its JWKS, issuer and the
// audience "engram") with the dashboard's client at iss.
func startWithIssuer(t *testing.T, iss *testIssuer, extra map[string]string) string {
	t.Helper()
	env := map[string]string{
		"ENGRAM_AUTH_JWKS_URL": iss.srv.URL + "/jwks", "ENGRAM_AUTH_ISSUER": iss.srv.URL, "ENGRAM_AUTH_AUDIENCE": "engram",
		"ENGRAM_DASHBOARD_OIDC_CLIENT_ID": iss.client, "ENGRAM_DASHBOARD_OIDC_CLIENT_SECRET": iss.secret,
		"ENGRAM_DASHBOARD_OIDC_AUDIENCE": "engram",
	}
	maps.Copy(env, extra)
	base, _ := startOnKnownPort(t, env)
	iss.set(func(i *testIssuer) { i.redirect = base + "/ui/callback" })
	return base
}

// signInAt follows the dashboard's sign-in through the issuer, where
// user ("sub@org") is signed in.
func (u *ui) signInAt(iss *testIssuer, user string) (int, string) {
	u.t.Helper()
	iss.set(func(i *testIssuer) { i.user = user })
	code, page, _ := u.walk(http.MethodGet, "/ui/login?next=/ui/", nil, nil)
	return code, page
}

// TestDashboardSignsInAtAnExternalIssuer: with ENGRAM_AUTH_JWKS_URL and
// ENGRAM_DASHBOARD_OIDC_CLIENT_ID, the dashboard signs users in at the
// issuer (authorization code with PKCE S256 and a nonce), keeps the
// issuer's tokens in its server-side session, acts through the API with
// them (each user sees only their own memories), renews them with the
// rotating refresh token, and revokes at the issuer on sign-out (issue 19).
func TestDashboardSignsInAtAnExternalIssuer(t *testing.T) {
	t.Run("PublicClient", func(t *testing.T) { externalDashboard(t, "", nil) })
	t.Run("ConfidentialClient", func(t *testing.T) { externalDashboard(t, "s3cret: with/odd+chars", nil) })
	t.Run("PostgreSQL", func(t *testing.T) {
		externalDashboard(t, "s3cret", map[string]string{"ENGRAM_POSTGRES_URL": pgSchemaURL(t)})
	})
}

func externalDashboard(t *testing.T, secret string, env map[string]string) {
	iss := newTestIssuer(t, secret)
	base := startWithIssuer(t, iss, env)

	alice := newUI(t, base)
	code, page, _ := alice.walk(http.MethodGet, "/", nil, nil)
	require.Equal(t, http.StatusUnauthorized, code, page)
	require.Contains(t, page, `id="signin"`)
	require.Contains(t, page, iss.srv.URL, "the sign-in page names the issuer")

	code, page = alice.signInAt(iss, "alice@acme")
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "<h1>Memories</h1>")
	require.Contains(t, page, "alice (acme)")
	iss.set(func(i *testIssuer) {
		q := i.authorize[len(i.authorize)-1]
		require.Equal(t, "S256", q.Get("code_challenge_method"))
		require.NotEmpty(t, q.Get("nonce"))
		require.NotEmpty(t, q.Get("state"))
		require.Equal(t, "engram", q.Get("audience"))
		require.Contains(t, strings.Fields(q.Get("scope")), "openid")
		require.Contains(t, strings.Fields(q.Get("scope")), "memories:write")
	})

	csrf := alice.csrf(page)
	code, page, _ = alice.walk(http.MethodPost, "/ui/memories", url.Values{"csrf": {csrf},
		"text": {"Alice files her expense reports on Fridays"}, "app": {"dashboard"}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Memory added.")
	code, page, _ = alice.walk(http.MethodGet, "/ui/", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "expense reports on Fridays")

	// Another user of the same issuer and org sees none of it.
	bob := newUI(t, base)
	code, page = bob.signInAt(iss, "bob@acme")
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "bob (acme)")
	require.Contains(t, page, "No memories yet")
	require.NotContains(t, page, "expense reports")

	// Short-lived access tokens are renewed at the issuer with the
	// refresh token (which rotates); the pages go on working.
	iss.set(func(i *testIssuer) { i.ttl = 20 * time.Second })
	carol := newUI(t, base)
	code, page = carol.signInAt(iss, "carol@acme")
	require.Equal(t, http.StatusOK, code, page)
	var before int
	iss.set(func(i *testIssuer) { before = i.grants["refresh_token"] })
	for range 2 {
		code, page, _ = carol.walk(http.MethodGet, "/ui/", nil, nil)
		require.Equal(t, http.StatusOK, code, page)
		require.Contains(t, page, "carol (acme)")
	}
	iss.set(func(i *testIssuer) {
		require.Equal(t, before+2, i.grants["refresh_token"], "each page renewed the 20 s token")
		i.refreshAs = "mallory@acme"
	})
	// A renewal naming another user signs the browser out.
	code, page, _ = carol.walk(http.MethodGet, "/ui/", nil, nil)
	require.Equal(t, http.StatusUnauthorized, code, page)
	require.Contains(t, page, `id="signin"`)
	iss.set(func(i *testIssuer) { i.refreshAs, i.ttl = "", time.Hour })

	// Every page works with the issuer's token; the API keys page leaves
	// connected applications to the issuer (the grants API is the
	// built-in server's).
	for _, p := range []string{"/ui/apps", "/ui/stats", "/ui/experiments", "/ui/sessions", "/ui/keys", "/ui/install", "/ui/account"} {
		code, page, _ = alice.walk(http.MethodGet, p, nil, nil)
		require.Equal(t, http.StatusOK, code, "%s: %s", p, page)
		require.NotContains(t, page, `role="alert"`, p)
	}
	require.Contains(t, page, "alice (acme)")
	_, page, _ = alice.walk(http.MethodGet, "/ui/keys", nil, nil)
	require.Contains(t, page, `id="connections-at-issuer"`)

	// Sign-out revokes the refresh token at the issuer and ends the session.
	code, page, _ = alice.walk(http.MethodPost, "/ui/logout", url.Values{"csrf": {csrf}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "You are signed out.")
	iss.set(func(i *testIssuer) { require.Len(t, i.revoked, 1) })
	code, page, _ = alice.walk(http.MethodGet, "/ui/", nil, nil)
	require.Equal(t, http.StatusUnauthorized, code, page)
	require.Contains(t, page, `id="signin"`)
}

// TestDashboardExternalSignInRefusals: every way the external sign-in can
// fail is a clear message on the sign-in page, never a 500, and never a
// session: the user declines; the state is not this browser's; a code
// obtained by someone else is injected (PKCE refuses it at the issuer);
// the issuer's token is one the API would refuse (no org_id); the issuer
// is down (engramd still starts).
func TestDashboardExternalSignInRefusals(t *testing.T) {
	iss := newTestIssuer(t, "")
	base := startWithIssuer(t, iss, nil)
	noSession := func(u *ui) {
		t.Helper()
		code, _, _ := u.walk(http.MethodGet, "/ui/", nil, nil)
		require.Equal(t, http.StatusUnauthorized, code, "no session was made")
	}

	declined := newUI(t, base)
	iss.set(func(i *testIssuer) { i.deny = true })
	code, page := declined.signInAt(iss, "alice@acme")
	iss.set(func(i *testIssuer) { i.deny = false })
	require.Equal(t, http.StatusForbidden, code, page)
	require.Contains(t, page, "Sign-in was not completed (access_denied)")
	require.Contains(t, page, `id="signin"`)
	noSession(declined)

	// toCallback starts a sign-in and stops at the issuer's redirect back
	// to the dashboard.
	toCallback := func(u *ui, user string) *url.URL {
		t.Helper()
		iss.set(func(i *testIssuer) { i.user = user })
		code, _ := u.send(http.MethodGet, "/ui/login?next=/ui/", nil, nil)
		require.Equal(t, http.StatusSeeOther, code)
		at, err := u.last.Location()
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(at.String(), iss.srv.URL+"/authorize?"), at.String())
		code, _ = u.send(http.MethodGet, at.String(), nil, nil)
		require.Equal(t, http.StatusFound, code)
		back, err := u.last.Location()
		require.NoError(t, err)
		return back
	}

	wrongState := newUI(t, base)
	back := toCallback(wrongState, "alice@acme")
	code, page = wrongState.send(http.MethodGet, withParam(back, "state", "not-"+back.Query().Get("state")), nil, nil)
	require.Equal(t, http.StatusBadRequest, code, page)
	require.Contains(t, page, "This sign-in was not started in this browser")
	noSession(wrongState)

	// RFC 9207: a response naming another issuer is refused.
	mixedUp := newUI(t, base)
	back = toCallback(mixedUp, "alice@acme")
	code, page = mixedUp.send(http.MethodGet, withParam(back, "iss", "https://other-issuer.example"), nil, nil)
	require.Equal(t, http.StatusBadRequest, code, page)
	require.Contains(t, page, "The sign-in came back from another issuer")
	noSession(mixedUp)

	// Code injection: the attacker's code, with the victim's own state,
	// was issued for the attacker's PKCE challenge; the victim's verifier
	// does not match it and the issuer refuses the exchange.
	attacker, victim := newUI(t, base), newUI(t, base)
	stolen := toCallback(attacker, "mallory@acme").Query().Get("code")
	back = toCallback(victim, "alice@acme")
	code, page = victim.send(http.MethodGet, withParam(back, "code", stolen), nil, nil)
	require.Equal(t, http.StatusBadGateway, code, page)
	require.Contains(t, page, "The authorization server refused the sign-in (invalid_grant)")
	noSession(victim)

	// A token the API would refuse makes no session: it is verified as
	// the API verifies it.
	orgless := newUI(t, base)
	code, page = orgless.signInAt(iss, "dave@")
	require.Equal(t, http.StatusForbidden, code, page)
	require.Contains(t, page, "engramd does not accept the identity provider")
	require.Contains(t, page, "org_id")
	noSession(orgless)

	// The dashboard's issuer is down at start: engramd serves, and the
	// sign-in page says the issuer cannot be reached.
	down := newTestIssuer(t, "")
	down.srv.Close()
	base2 := startWithIssuer(t, iss, map[string]string{"ENGRAM_DASHBOARD_OIDC_ISSUER": down.srv.URL})
	u := newUI(t, base2)
	code, page, _ = u.walk(http.MethodGet, "/ui/login", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, code, page)
	require.Contains(t, page, "The identity provider cannot be reached")
	require.Contains(t, page, down.srv.URL)
}

// withParam is u with its query parameter k set to v, as a tampered
// redirect would carry it.
func withParam(u *url.URL, k, v string) string {
	q := u.Query()
	q.Set(k, v)
	c := *u
	c.RawQuery = q.Encode()
	return c.String()
}
