package oauthserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/oauthserver"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// fixture is an authorization server over a real SQLite store and the
// in-process rate limiter; Mint writes the claims in clear so tests can
// read what would be signed.
type fixture struct {
	srv   *httptest.Server
	store ports.OAuthStore
	as    *oauthserver.Server
	code  string // the local user's one-time sign-in code
}

const testPassword = "correct horse battery"

func newFixture(t *testing.T, tune func(*oauthserver.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	lim := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	t.Cleanup(func() { _ = lim.Close() })
	f := &fixture{store: st}
	f.srv = httptest.NewUnstartedServer(nil)
	cfg := oauthserver.Config{Issuer: "http://" + f.srv.Listener.Addr().String(), PasswordIterations: 1000}
	if tune != nil {
		tune(&cfg)
	}
	f.as, err = oauthserver.New(cfg, oauthserver.Deps{Store: st, Limiter: lim,
		Mint: func(a oauthserver.AccessToken) (string, error) {
			b, err := json.Marshal(map[string]any{"org": a.Tenant.OrgID, "sub": a.Tenant.UserID, "scope": a.Scopes, "jkt": a.JKT, "ttl": a.TTL.String()})
			return "at." + base64.RawURLEncoding.EncodeToString(b), err
		},
		ProofKey: func(_ context.Context, proof, method, url string) (string, error) {
			return "jkt-of-" + proof, nil
		},
	})
	require.NoError(t, err)
	f.srv.Config.Handler = f.as.Handler()
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	f.code, err = oauthserver.IssueSignInCode(ctx, st, domain.Tenant{OrgID: "local", UserID: "local"}, time.Now())
	require.NoError(t, err)
	require.NoError(t, oauthserver.AddUser(ctx, st, domain.Tenant{OrgID: "acme", UserID: "alice"}, testPassword, 1000, time.Now()))
	return f
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see where the server sends it.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) register(t *testing.T, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(f.srv.URL+oauthserver.RegisterPath, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return res.StatusCode, out
}

const redirectURI = "http://127.0.0.1:33418/oauth/callback"

func (f *fixture) client(t *testing.T) string {
	t.Helper()
	status, out := f.register(t, map[string]any{"client_name": "Test Client", "redirect_uris": []string{redirectURI},
		"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"}})
	require.Equal(t, http.StatusCreated, status, out)
	return out["client_id"].(string)
}

type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := strings.Repeat("v", 20) + base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

func (f *fixture) authorizeURL(clientID string, p pkce, extra url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"code_challenge": {p.challenge}, "code_challenge_method": {"S256"}, "state": {"st-1"},
		"scope": {"memories:read memories:write"}}
	for k, v := range extra {
		q[k] = v
	}
	return f.srv.URL + oauthserver.AuthorizePath + "?" + q.Encode()
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consent opens the page and returns its form fields.
func consent(t *testing.T, c *http.Client, u string) (int, string, url.Values) {
	t.Helper()
	res, err := c.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	form := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(buf.String(), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	return res.StatusCode, buf.String(), form
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// submit posts the consent form and returns the response (not followed).
func (f *fixture) submit(t *testing.T, c *http.Client, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := c.PostForm(f.srv.URL+oauthserver.AuthorizePath, form)
	require.NoError(t, err)
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return res, buf.String()
}

// signInAndAllow runs the browser part and returns the code.
func (f *fixture) signInAndAllow(t *testing.T, c *http.Client, clientID string, p pkce, user, org, secret string) string {
	t.Helper()
	status, _, form := consent(t, c, f.authorizeURL(clientID, p, nil))
	require.Equal(t, http.StatusOK, status)
	form.Set("user", user)
	form.Set("org", org)
	form.Set("secret", secret)
	form.Set("action", "allow")
	res, body := f.submit(t, c, form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loc.String(), redirectURI+"?"), loc.String())
	require.Equal(t, "st-1", loc.Query().Get("state"))
	require.Equal(t, f.srv.URL, loc.Query().Get("iss"))
	require.NotEmpty(t, loc.Query().Get("code"), loc.String())
	return loc.Query().Get("code")
}

func (f *fixture) tokenReq(t *testing.T, form url.Values, hdr http.Header) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+oauthserver.TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return res.StatusCode, out
}

func (f *fixture) exchange(t *testing.T, clientID, code string, p pkce) (int, map[string]any) {
	return f.tokenReq(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {clientID},
		"redirect_uri": {redirectURI}, "code_verifier": {p.verifier}}, nil)
}

func (f *fixture) refresh(t *testing.T, clientID, rt string) (int, map[string]any) {
	return f.tokenReq(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}}, nil)
}

// claims reads what the test Mint wrote.
func claims(t *testing.T, at any) map[string]any {
	t.Helper()
	s, _ := at.(string)
	require.True(t, strings.HasPrefix(s, "at."), "access token %v", at)
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, "at."))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}
