package main

import (
	"bytes"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// upload posts the account page's import form as a browser does: csrf,
// mode, then the file.
func (u *ui) upload(csrf, mode string, file []byte) (int, string) {
	u.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf != "" {
		require.NoError(u.t, mw.WriteField("csrf", csrf))
	}
	require.NoError(u.t, mw.WriteField("mode", mode))
	fw, err := mw.CreateFormFile("file", "engram-backup.ndjson.gz")
	require.NoError(u.t, err)
	_, _ = fw.Write(file)
	require.NoError(u.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, u.base+"/ui/account/import", &buf)
	require.NoError(u.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := u.c.Do(req)
	require.NoError(u.t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

func importArchiveThroughUI(t *testing.T, u *ui) {
	code, page, _ := u.walk(http.MethodGet, "/ui/account", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, `enctype="multipart/form-data"`)
	csrf := u.csrf(page)
	code, archive := u.send(http.MethodGet, "/ui/account/archive", nil, nil)
	require.Equal(t, http.StatusOK, code, archive)
	require.NotEmpty(t, archive)

	code, page = u.upload(csrf, "skip", []byte(archive))
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Archive imported:")
	require.Contains(t, page, "already present", "the memories were there: skipped, not doubled")

	code, page = u.upload("", "skip", []byte(archive))
	require.Equal(t, http.StatusForbidden, code, page)
	code, page = u.upload("wrong", "skip", []byte(archive))
	require.Equal(t, http.StatusForbidden, code, page)

	code, page = u.upload(csrf, "skip", []byte("this is not an archive"))
	require.Equal(t, http.StatusBadRequest, code, page)
	require.Contains(t, page, `role="alert"`)

	code, page = u.upload(csrf, "sideways", []byte(archive))
	require.Equal(t, http.StatusBadRequest, code, page)
	require.Contains(t, page, "mode")

	code, page = u.upload(csrf, "skip", bytes.Repeat([]byte("x"), 300<<10))
	require.Equal(t, http.StatusRequestEntityTooLarge, code, page)
	require.Contains(t, page, `role="alert"`)
}

// TestDashboardSessionOutlivesTheProcess signs in through one engramd and
// uses the same browser cookie on a restarted process on the same store
// and, on PostgreSQL, on a second process serving the same public URL at
// the same time (what a load balancer in front of several does).
func TestDashboardSessionOutlivesTheProcess(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		dashboardSessionOutlives(t, map[string]string{"ENGRAM_DATA_DIR": t.TempDir()}, false)
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dashboardSessionOutlives(t, map[string]string{"ENGRAM_DATA_DIR": t.TempDir(), "ENGRAM_POSTGRES_URL": pgSchemaURL(t)}, true)
	})
}

func dashboardSessionOutlives(t *testing.T, env map[string]string, fleet bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	env["ENGRAM_ADDR"], env["ENGRAM_PUBLIC_URL"] = addr, "http://"+addr
	env["ENGRAM_IMPORT_MAX_BYTES"] = "200000" // the import's bound, tested below
	base, stop, out := startEngramd(t, env)
	m := signInCodeRe.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	u := newUI(t, base)
	u.signIn("local", "local", m[1])
	_, page, _ := u.walk(http.MethodGet, "/ui/", nil, nil)
	csrf := u.csrf(page)
	code, page, _ := u.walk(http.MethodPost, "/ui/memories", url.Values{"csrf": {csrf}, "text": {"Grace keeps her notes in a blue binder"}}, nil)
	require.Equal(t, http.StatusOK, code, page)

	// The sessions page lists the user's sessions, and another user's
	// page lists none of them.
	raw, err := os.ReadFile(filepath.Join(env["ENGRAM_DATA_DIR"], "local-token"))
	require.NoError(t, err)
	st, body := do(t, http.MethodPost, base+"/api/v1/sessions/trip-planning/events", strings.TrimSpace(string(raw)), `{"role":"user","text":"book the train to Lyon"}`)
	require.Equal(t, http.StatusCreated, st, body)
	code, page, _ = u.walk(http.MethodGet, "/ui/sessions", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, `href="/ui/sessions?id=trip-planning"`)
	code, page, _ = u.walk(http.MethodGet, "/ui/sessions?id=trip-planning", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "book the train to Lyon")
	addUser(t, env, "local", "carol", "correct horse battery staple")
	carol := newUI(t, base)
	carol.signIn("carol", "local", "correct horse battery staple")
	code, page, _ = carol.walk(http.MethodGet, "/ui/sessions", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.NotContains(t, page, "trip-planning")
	require.Contains(t, page, "No live sessions")
	code, page, _ = carol.walk(http.MethodGet, "/ui/sessions?id=trip-planning", nil, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.NotContains(t, page, "Lyon")

	if fleet {
		// A second process on the same store and public URL: the cookie
		// and its CSRF token work there too, while the first still runs.
		other := map[string]string{}
		for k, v := range env {
			other[k] = v
		}
		other["ENGRAM_ADDR"] = "127.0.0.1:0"
		base2, stop2, _ := startEngramd(t, other)
		u2 := *u
		u2.base = base2
		code, page, _ = u2.walk(http.MethodGet, "/ui/", nil, nil)
		require.Equal(t, http.StatusOK, code, "the second process knows the session: %s", page)
		require.Contains(t, page, "blue binder")
		require.Equal(t, csrf, u2.csrf(page))
		code, page, _ = u2.walk(http.MethodPost, "/ui/memories", url.Values{"csrf": {csrf}, "text": {"Grace files receipts by month"}}, nil)
		require.Equal(t, http.StatusOK, code, page)
		require.Contains(t, page, "Memory added.")
		require.NoError(t, stop2())
	}

	// Restart on the same address: the browser is still signed in.
	require.NoError(t, stop())
	base, stop, _ = startEngramd(t, env)
	defer stop()
	u.base = base
	code, page, _ = u.walk(http.MethodGet, "/ui/", nil, nil)
	require.Equal(t, http.StatusOK, code, "the restarted process knows the session: %s", page)
	require.Contains(t, page, "blue binder")
	code, page, _ = u.walk(http.MethodPost, "/ui/memories", url.Values{"csrf": {u.csrf(page)}, "text": {"Grace prefers fountain pens"}}, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Memory added.")

	// Import on the account page: the backup archive downloaded there goes
	// back in; without the CSRF token, or past the bound, it is refused,
	// and a broken file shows the API's problem document.
	importArchiveThroughUI(t, u)

	// Sign-out deletes the session from the store: the old cookie opens
	// nothing, on any process.
	at, err := url.Parse(base)
	require.NoError(t, err)
	kept := u.c.Jar.Cookies(at)
	_, page, _ = u.walk(http.MethodGet, "/ui/", nil, nil)
	code, _, _ = u.walk(http.MethodPost, "/ui/logout", url.Values{"csrf": {u.csrf(page)}}, nil)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, stop())
	base, stop, _ = startEngramd(t, env)
	defer stop()
	u.base = base
	u.c.Jar.SetCookies(at, kept) // a copy of the cookie kept from before the sign-out
	code, _, _ = u.walk(http.MethodGet, "/ui/", nil, nil)
	require.Equal(t, http.StatusUnauthorized, code)
}
