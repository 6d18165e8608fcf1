package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func adminRequest(method, host, path, contentType, auth, body string) *http.Request {
	r := httptest.NewRequest(method, "http://"+host+path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

// The admin listener refuses rebound Host names and cross-site simple
// POSTs on loopback, and everything without the token when one is set.
func TestAdminGuard(t *testing.T) {
	var lv slog.LevelVar
	inner := adminHandler(prometheus.NewRegistry(), &lv, slog.New(slog.DiscardHandler))
	open := adminGuard("", inner)
	const token = "0123456789abcdef0123456789abcdef"
	locked := adminGuard(token, inner)
	for _, c := range []struct {
		name string
		h    http.Handler
		req  *http.Request
		want int
	}{
		{"loopback IP", open, adminRequest("GET", "127.0.0.1:9464", "/metrics", "", "", ""), 200},
		{"localhost", open, adminRequest("GET", "localhost:9464", "/admin/loglevel", "", "", ""), 200},
		{"IPv6 loopback", open, adminRequest("GET", "[::1]:9464", "/metrics", "", "", ""), 200},
		{"rebound name", open, adminRequest("GET", "evil.example:9464", "/debug/pprof/", "", "", ""), http.StatusMisdirectedRequest},
		{"text/plain POST", open, adminRequest("POST", "127.0.0.1:9464", "/admin/loglevel", "text/plain", "", `{"level":"debug"}`), http.StatusUnsupportedMediaType},
		{"form POST", open, adminRequest("POST", "127.0.0.1:9464", "/admin/loglevel", "application/x-www-form-urlencoded", "", `{"level":"debug"}`), http.StatusUnsupportedMediaType},
		{"JSON POST", open, adminRequest("POST", "127.0.0.1:9464", "/admin/loglevel", "application/json; charset=utf-8", "", `{"level":"warn"}`), 200},
		{"no token", locked, adminRequest("GET", "10.0.0.5:9464", "/metrics", "", "", ""), http.StatusUnauthorized},
		{"wrong token", locked, adminRequest("GET", "10.0.0.5:9464", "/metrics", "", "Bearer "+strings.Repeat("x", 32), ""), http.StatusUnauthorized},
		{"token", locked, adminRequest("GET", "engram-admin.internal:9464", "/metrics", "", "Bearer "+token, ""), 200},
		{"token, text/plain", locked, adminRequest("PUT", "10.0.0.5:9464", "/admin/loglevel", "text/plain", "Bearer "+token, `{"level":"debug"}`), http.StatusUnsupportedMediaType},
	} {
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, c.req)
		require.Equal(t, c.want, rec.Code, "%s: %s", c.name, rec.Body.String())
	}
	require.Equal(t, slog.LevelWarn, lv.Level(), "only the JSON POST changed the level")
}

// An empty ENGRAM_ADMIN_ADDR turns the admin listener off, as the README
// says (config alone cannot tell empty from unset).
func TestEmptyAdminAddrDisablesTheListener(t *testing.T) {
	t.Setenv("ENGRAM_ADMIN_ADDR", "")
	require.Equal(t, "off", getenv("ENGRAM_ADMIN_ADDR"))
	e := startLogged(t, map[string]string{"ENGRAM_ADMIN_ADDR": getenv("ENGRAM_ADMIN_ADDR")})
	code, _ := get(t, e.base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, e.stderr.String(), "admin listener off")
	require.NotContains(t, e.stderr.String(), "admin listening")
}

// Off loopback the admin listener needs a token: engramd refuses to start
// without one, naming the key.
func TestNonLoopbackAdminNeedsAToken(t *testing.T) {
	env := map[string]string{"ENGRAM_DATA_DIR": t.TempDir(), "ENGRAM_ADMIN_ADDR": "0.0.0.0:0"}
	err := run(t.Context(), nil, func(k string) string { return env[k] }, &syncBuffer{}, &syncBuffer{})
	require.ErrorContains(t, err, "ENGRAM_ADMIN_TOKEN")
}
