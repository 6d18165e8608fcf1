package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/oauthserver"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// ui is a browser without JavaScript: a cookie jar, redirects followed
// by hand so every response can be inspected.
type ui struct {
	t    *testing.T
	base string
	c    *http.Client
	last *http.Response
}

func newUI(t *testing.T, base string) *ui {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &ui{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// send makes one request; form non-nil makes it a POST.
func (u *ui) send(method, path string, form url.Values, hdr map[string]string) (int, string) {
	u.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	if !strings.HasPrefix(path, "http") {
		path = u.base + path
	}
	req, err := http.NewRequest(method, path, body)
	require.NoError(u.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := u.c.Do(req)
	require.NoError(u.t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	u.last = res
	return res.StatusCode, string(raw)
}

// walk follows redirects (as a browser does, POST → GET on 303).
func (u *ui) walk(method, path string, form url.Values, hdr map[string]string) (int, string, []*http.Response) {
	u.t.Helper()
	var seen []*http.Response
	code, body := u.send(method, path, form, hdr)
	seen = append(seen, u.last)
	for i := 0; i < 10 && code >= 300 && code < 400; i++ {
		loc, err := u.last.Location()
		require.NoError(u.t, err)
		code, body = u.send(http.MethodGet, loc.String(), nil, nil)
		seen = append(seen, u.last)
	}
	return code, body, seen
}

var (
	hiddenRe = regexp.MustCompile(`name="([^"]+)" value="([^"]*)"`)
	csrfRe   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// signIn goes through the dashboard's sign-in: the dashboard sends the
// browser to the consent page, the user signs in and allows, the
// dashboard exchanges the code and sets its session cookie.
func (u *ui) signIn(user, org, secret string) (sessionCookie string) {
	u.t.Helper()
	code, page, _ := u.walk(http.MethodGet, "/ui/login?next=/ui/", nil, nil)
	require.Equal(u.t, http.StatusOK, code, page)
	require.Contains(u.t, page, "Authorize Engram dashboard")
	form := url.Values{}
	for _, f := range hiddenRe.FindAllStringSubmatch(page, -1) {
		form.Set(f[1], strings.ReplaceAll(f[2], "&#43;", "+"))
	}
	form.Set("user", user)
	form.Set("org", org)
	form.Set("secret", secret)
	form.Set("action", "allow")
	code, page, seen := u.walk(http.MethodPost, "/authorize", form, nil)
	require.Equal(u.t, http.StatusOK, code, page)
	require.Contains(u.t, page, "<h1>Memories</h1>")
	for _, r := range seen {
		for _, c := range r.Header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "engram_ui=") && !strings.Contains(c, "Max-Age=0") {
				sessionCookie = c
			}
		}
	}
	require.NotEmpty(u.t, sessionCookie, "the callback sets the session cookie")
	return sessionCookie
}

func (u *ui) csrf(page string) string {
	m := csrfRe.FindStringSubmatch(page)
	require.NotNil(u.t, m, "the page carries a CSRF token")
	return m[1]
}

// addUser gives the running server's store a named user with a password.
func addUser(t *testing.T, env map[string]string, org, user, password string) {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	require.NoError(t, err)
	users, closeUsers, err := wiring.OpenUsers(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer closeUsers()
	require.NoError(t, oauthserver.AddUser(context.Background(), users.Store,
		domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}, password, 1000, time.Now()))
}

func TestDashboardEndToEnd(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { dashboardEndToEnd(t, map[string]string{"ENGRAM_DATA_DIR": t.TempDir()}) })
	t.Run("PostgreSQL", func(t *testing.T) {
		dashboardEndToEnd(t, map[string]string{"ENGRAM_DATA_DIR": t.TempDir(), "ENGRAM_POSTGRES_URL": pgSchemaURL(t)})
	})
}

func dashboardEndToEnd(t *testing.T, env map[string]string) {
	base, out := startOnKnownPort(t, env)
	m := signInCodeRe.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	u := newUI(t, base)

	// Signed out: / leads to the sign-in page, which frames nothing and
	// runs no inline script.
	code, page, _ := u.walk(http.MethodGet, "/", nil, nil)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, page, `id="signin"`)
	csp := u.last.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "frame-ancestors 'none'")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Equal(t, "DENY", u.last.Header.Get("X-Frame-Options"))

	cookie := u.signIn("local", "local", m[1])
	require.Contains(t, cookie, "HttpOnly")
	require.Contains(t, cookie, "SameSite=Lax")
	require.NotContains(t, cookie, "Secure", "no TLS here")

	// Empty state, then add a memory.
	code, page, _ = u.walk(http.MethodGet, "/ui/", nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, "No memories yet")
	csrf := u.csrf(page)
	code, page, _ = u.walk(http.MethodPost, "/ui/memories", url.Values{"csrf": {csrf}, "text": {"The dashboard remembers that Ada prefers green tea"},
		"app": {"dashboard"}, "categories": {"preferences, drinks"}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Memory added.")
	require.Contains(t, page, "Ada prefers green tea")
	require.Contains(t, page, `id="history"`)
	detail := u.last.Request.URL.Path

	// A second memory near in meaning is listed under the first's similar
	// memories (the vector ranking).
	code, page, _ = u.walk(http.MethodPost, "/ui/memories", url.Values{"csrf": {csrf}, "text": {"Ada also drinks green tea every afternoon"},
		"app": {"dashboard"}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	second := u.last.Request.URL.Path
	code, page, _ = u.walk(http.MethodGet, detail, nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Regexp(t, `(?s)<ul class="similar">.*href="`+regexp.QuoteMeta(second)+`"`, page)
	// Sort: newest first by default, oldest first on request.
	_, page, _ = u.walk(http.MethodGet, "/ui/", nil, nil)
	require.Regexp(t, `(?s)href="`+regexp.QuoteMeta(second)+`".*href="`+regexp.QuoteMeta(detail)+`"`, page)
	_, page, _ = u.walk(http.MethodGet, "/ui/?sort=oldest", nil, nil)
	require.Regexp(t, `(?s)href="`+regexp.QuoteMeta(detail)+`".*href="`+regexp.QuoteMeta(second)+`"`, page)
	require.Contains(t, page, `<option value="oldest" selected>`)

	// Search finds it; a filter that excludes it does not.
	code, page, _ = u.walk(http.MethodGet, "/ui/?q="+url.QueryEscape("what tea does Ada like"), nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, detail)
	code, page, _ = u.walk(http.MethodGet, "/ui/?category=work", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.NotContains(t, page, detail)
	require.Contains(t, page, "No memory matches these filters")
	code, page, _ = u.walk(http.MethodGet, "/ui/?from=2000-01-01&to=2999-12-31&app=dashboard", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, detail)
	// A bad filter is shown as the API's problem, not a blank page.
	code, page, _ = u.walk(http.MethodGet, "/ui/?state=bogus", nil, nil)
	require.Equal(t, http.StatusBadRequest, code, page)
	require.Contains(t, page, `role="alert"`)

	// CSRF: a post without the token, or from another site, is 403 and
	// changes nothing.
	code, page = u.send(http.MethodPost, "/ui/memories", url.Values{"text": {"forged without a token"}}, nil)
	require.Equal(t, http.StatusForbidden, code, page)
	code, page = u.send(http.MethodPost, "/ui/memories", url.Values{"csrf": {csrf}, "text": {"forged from another site"}},
		map[string]string{"Origin": "https://evil.example"})
	require.Equal(t, http.StatusForbidden, code, page)
	_, page, _ = u.walk(http.MethodGet, "/ui/", nil, nil)
	require.NotContains(t, page, "forged")

	// Edit, then pause it from the table: history shows both.
	id := strings.TrimPrefix(detail, "/ui/memories/")
	code, page, _ = u.walk(http.MethodPost, detail, url.Values{"csrf": {csrf}, "text": {"Ada prefers jasmine green tea"}, "categories": {"drinks"}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Memory saved.")
	code, page, _ = u.walk(http.MethodPost, "/ui/memories/bulk", url.Values{"csrf": {csrf}, "id": {id}, "action": {"paused"}, "return": {detail}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, `<span class="state paused">paused</span>`)
	require.Contains(t, page, "active → paused")
	// The access log comes from GET /api/v1/memories/{id}/access: the
	// dashboard's own reads of the memory are in it.
	require.Regexp(t, `(?s)<table id="access-log">.*<td>get</td>`, page)

	// Apps: pause and resume the app.
	code, page, _ = u.walk(http.MethodGet, "/ui/apps", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Pause dashboard")
	require.Contains(t, page, "Memories accessed", "created vs accessed")
	code, page, _ = u.walk(http.MethodPost, "/ui/apps/dashboard", url.Values{"csrf": {csrf}, "active": {"false"}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "App paused.")
	require.Contains(t, page, "Resume dashboard")

	// API keys: created once-shown, works against the API, revoked.
	code, page, _ = u.walk(http.MethodPost, "/ui/keys", url.Values{"csrf": {csrf}, "name": {"ci script"}, "scope": {"memories:read"}}, nil)
	require.Equal(t, http.StatusCreated, code, page)
	key := regexp.MustCompile(`id="new-key-value">([^<]+)<`).FindStringSubmatch(page)
	require.NotNil(t, key, page)
	st, _ := do(t, http.MethodGet, base+"/api/v1/memories", key[1], "")
	require.Equal(t, http.StatusOK, st)
	st, _ = do(t, http.MethodGet, base+"/api/v1/memories?q=tea", key[1], "")
	require.Equal(t, http.StatusOK, st)
	_, page, _ = u.walk(http.MethodGet, "/ui/keys", nil, nil)
	require.NotContains(t, page, key[1], "the key is shown once")
	kid := regexp.MustCompile(`action="/ui/keys/([^/"]+)/revoke"`).FindStringSubmatch(page)
	require.NotNil(t, kid, page)
	code, page, _ = u.walk(http.MethodPost, "/ui/keys/"+kid[1]+"/revoke", url.Values{"csrf": {csrf}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Key revoked.")
	st, _ = do(t, http.MethodGet, base+"/api/v1/memories", key[1], "")
	require.Equal(t, http.StatusUnauthorized, st)

	// Stats: over time (both memories, today), by category (the edit left
	// only "drinks"), figures repeated in tables for screen readers.
	code, page, _ = u.walk(http.MethodGet, "/ui/stats", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, `<h2 id="s-days">Over time</h2>`)
	require.Contains(t, page, `<th scope="row">`+time.Now().UTC().Format(time.DateOnly)+`</th><td>2</td>`)
	require.Contains(t, page, `<th scope="row">drinks</th><td>1</td>`)
	require.NotContains(t, page, `<th scope="row">preferences</th>`)
	// Search latency and error rate from engramd's own metrics (the key's
	// search above went through the instrumented API).
	require.Regexp(t, `(?s)<p id="search-figures">.*<strong>[1-9][0-9]*</strong> searches, server errors \(5xx\) <strong>0.0%</strong>`, page)

	// Every other page renders.
	for _, p := range []string{"/ui/stats", "/ui/experiments", "/ui/sessions?id=none", "/ui/install", "/ui/account"} {
		code, page, _ = u.walk(http.MethodGet, p, nil, nil)
		require.Equal(t, http.StatusOK, code, "%s: %s", p, page)
	}
	require.Contains(t, page, "Delete my data")

	// Tenant isolation: another user of the same org signs in and sees
	// none of the first user's memories, not even by id.
	addUser(t, env, "local", "bob", "correct horse battery staple")
	bob := newUI(t, base)
	bob.signIn("bob", "local", "correct horse battery staple")
	_, page, _ = bob.walk(http.MethodGet, "/ui/?state=paused", nil, nil)
	require.NotContains(t, page, id)
	require.Contains(t, page, "No memory matches")
	_, page, _ = bob.walk(http.MethodGet, "/ui/?q=jasmine+green+tea", nil, nil)
	require.NotContains(t, page, id)
	code, page, _ = bob.walk(http.MethodGet, detail, nil, nil)
	require.Equal(t, http.StatusNotFound, code, page)
	require.NotContains(t, page, "jasmine")

	// Connected applications: each sign-in is a grant; bob cannot revoke
	// the local user's, and disconnects one of his own.
	_, page, _ = u.walk(http.MethodGet, "/ui/keys", nil, nil)
	grantRe := regexp.MustCompile(`action="/ui/connections/([^/"]+)/revoke"`)
	localGrant := grantRe.FindStringSubmatch(page)
	require.NotNil(t, localGrant, page)
	require.Contains(t, page, "Engram dashboard")
	bob2 := newUI(t, base)
	bob2.signIn("bob", "local", "correct horse battery staple")
	_, page, _ = bob.walk(http.MethodGet, "/ui/keys", nil, nil)
	bobGrants := grantRe.FindAllStringSubmatch(page, -1)
	require.Len(t, bobGrants, 2, "two sign-ins, two grants")
	code, page, _ = bob.walk(http.MethodPost, "/ui/connections/"+localGrant[1]+"/revoke", url.Values{"csrf": {bob.csrf(page)}}, nil)
	require.Equal(t, http.StatusNotFound, code, page)
	code, page, _ = bob.walk(http.MethodPost, "/ui/connections/"+bobGrants[1][1]+"/revoke", url.Values{"csrf": {bob.csrf(page)}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Application disconnected.")
	require.Len(t, grantRe.FindAllStringSubmatch(page, -1), 1)
	_, page, _ = u.walk(http.MethodGet, "/ui/keys", nil, nil)
	require.Contains(t, page, localGrant[1], "the local user's grant is untouched")

	// Sign out ends the session: the old cookie no longer opens a page.
	_, page, _ = u.walk(http.MethodGet, "/ui/", nil, nil)
	code, _, _ = u.walk(http.MethodPost, "/ui/logout", url.Values{"csrf": {u.csrf(page)}}, nil)
	require.Equal(t, http.StatusOK, code)
	code, _, _ = u.walk(http.MethodGet, "/ui/", nil, nil)
	require.Equal(t, http.StatusUnauthorized, code)
}
