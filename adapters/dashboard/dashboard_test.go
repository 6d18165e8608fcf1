package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/ports"
)

func TestSafeNextStaysOnTheDashboard(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/keys": "/ui/keys", "/ui/?q=tea": "/ui/?q=tea", "": Prefix, "https://evil.example/ui/": Prefix,
		"//evil.example/ui/": Prefix, "/api/v1/memories": Prefix, "/ui/\\evil": Prefix, "/ui/\r\nSet-Cookie:x": Prefix,
	} {
		require.Equal(t, want, safeNext(in), in)
	}
}

func TestFiltersBecomeTheAPIsQuery(t *testing.T) {
	v, p := filters{App: "cursor", Category: "work", State: "paused", From: "2026-01-01", To: "2026-02-01"}.apiQuery("c1")
	require.Nil(t, p)
	require.Equal(t, "cursor", v.Get("app"))
	require.Equal(t, "paused", v.Get("state"))
	require.Equal(t, "c1", v.Get("cursor"))
	require.JSONEq(t, `{"AND":[{"created_at":{"gte":"2026-01-01T00:00:00Z"}},{"created_at":{"lte":"2026-02-01T23:59:59Z"}}]}`, v.Get("filters"))

	// Search ranks one page of active memories: no cursor, no state.
	v, p = filters{Q: "tea", State: "paused"}.apiQuery("c1")
	require.Nil(t, p)
	require.Equal(t, url.Values{"q": {"tea"}, "limit": {"50"}}, v)

	// Sort orders a list; a search is ranked, so it is left out there.
	v, p = filters{Sort: "oldest"}.apiQuery("")
	require.Nil(t, p)
	require.Equal(t, "oldest", v.Get("order"))
	v, p = filters{Q: "tea", Sort: "oldest"}.apiQuery("")
	require.Nil(t, p)
	require.Empty(t, v.Get("order"))
	_, p = filters{Sort: "sideways"}.apiQuery("")
	require.NotNil(t, p)
	require.Contains(t, p.Detail, "sort")

	_, p = filters{From: "yesterday"}.apiQuery("")
	require.NotNil(t, p)
	require.Equal(t, 400, p.Status)
	require.Contains(t, p.Detail, "from")
}

func TestChartsEscapeLabels(t *testing.T) {
	svg := string(barChart(`<b>"x"</b>`, []bar{{Label: `<script>alert(1)</script>`, Value: 3}, {Label: "b", Value: 1}}))
	require.NotContains(t, svg, "<script>")
	require.NotContains(t, svg, "<b>")
	require.Contains(t, svg, "&lt;script&gt;")
	require.Equal(t, 2, strings.Count(svg, "<rect "))
	require.NotContains(t, svg, "style=", "the CSP allows no inline style")

	ci := string(ciChart("t", []interval{{Label: "control", Rate: .5, Low: .3, High: .7, Control: true}, {Label: "<x>", Rate: .8, Low: .6, High: .9}}))
	require.Equal(t, 2, strings.Count(ci, "<circle "))
	require.Contains(t, ci, "&lt;x&gt;")
	require.NotContains(t, ci, "NaN")
	require.NotContains(t, string(ciChart("t", nil)), "NaN")
}

func TestSessionSecretsAreDerivedNotStored(t *testing.T) {
	a, b := randomString(32), randomString(32)
	require.NotEqual(t, csrfOf(a), csrfOf(b))
	require.Equal(t, csrfOf(a), csrfOf(a), "every process derives the same CSRF token from the cookie")
	require.NotEqual(t, hashOf(a), csrfOf(a))
	require.NotContains(t, csrfOf(a), hashOf(a), "the stored hash does not give the CSRF token")
	require.NotEqual(t, loginState(a), loginState(b))
	require.NotContains(t, loginState(a), a, "the state sent through the browser does not reveal the verifier")
}

// tempSessions is a session store on a fresh SQLite file.
func tempSessions(t *testing.T) ports.UISessionStore {
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestNewParsesEveryPage(t *testing.T) {
	h := http.NotFoundHandler()
	_, err := New(Config{PublicURL: "http://127.0.0.1:8765", ClientID: "c"}, Deps{API: h, OAuth: h})
	require.Error(t, err, "sessions live in a store")
	x, err := New(Config{PublicURL: "http://127.0.0.1:8765", ClientID: "c"}, Deps{API: h, OAuth: h, Sessions: tempSessions(t)})
	require.NoError(t, err)
	for _, name := range []string{"memories", "memory", "apps", "keys", "stats", "experiments", "experiment", "sessions", "install", "account", "signin", "error"} {
		require.Contains(t, x.pages, name)
	}
	require.Contains(t, x.static, "app.css")
	require.Contains(t, x.static, "app.js")
}
