package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

func TestRequestIDAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.user("acme", "alice")

	rec := alice.do(http.MethodGet, "/api/v1/memories", nil)
	id := rec.Header().Get("X-Request-Id")
	require.Len(t, id, 24, "a generated id")
	require.NotEqual(t, id, alice.do(http.MethodGet, "/api/v1/memories", nil).Header().Get("X-Request-Id"))

	req := alice.request(http.MethodGet, "/api/v1/memories", nil)
	req.Header.Set("X-Request-Id", "client-chosen-42")
	require.Equal(t, "client-chosen-42", e.serve(req).Header().Get("X-Request-Id"))
	req = alice.request(http.MethodGet, "/api/v1/memories", nil)
	req.Header.Set("X-Request-Id", "has spaces\tand tabs")
	require.NotEqual(t, "has spaces\tand tabs", e.serve(req).Header().Get("X-Request-Id"), "an unsafe id is replaced")

	// Every response carries the headers, errors and unauthenticated ones too.
	for _, r := range []*http.Request{
		alice.request(http.MethodGet, "/api/v1/memories", nil),
		newRequest(t, http.MethodGet, "/api/v1/memories", nil),
		newRequest(t, http.MethodGet, "/no/such/route", nil),
		newRequest(t, http.MethodGet, "/healthz", nil),
	} {
		rec := e.serve(r)
		h := rec.Header()
		require.Equal(t, "default-src 'none'; frame-ancestors 'none'", h.Get("Content-Security-Policy"), r.URL.Path)
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
		require.Equal(t, "DENY", h.Get("X-Frame-Options"))
		require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
		require.Empty(t, h.Get("Strict-Transport-Security"), "no HSTS over plain HTTP")
		require.NotEmpty(t, h.Get("X-Request-Id"))
	}

	tls := newEnv(t, func(o *envOptions) { o.cfg.TLS = true })
	require.Contains(t, tls.serve(newRequest(t, http.MethodGet, "/healthz", nil)).Header().Get("Strict-Transport-Security"), "max-age=")
}

func TestUnknownRouteAndMethodAreProblems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requireProblem(t, e.serve(newRequest(t, http.MethodGet, "/api/v1/nope", nil)), http.StatusNotFound)
	rec := e.serve(newRequest(t, http.MethodPut, "/api/v1/memories", nil))
	requireProblem(t, rec, http.StatusMethodNotAllowed)
}

// TestAccessLogLine: one JSON line per request with the request id, route
// template, status, latency and tenant, and never the token, the proof or
// the memory's text.
func TestAccessLogLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.dpopUser("acme", "alice")
	secret := "my bank PIN is 4321"
	req := alice.request(http.MethodPost, "/api/v1/memories", map[string]any{"text": secret})
	proof := req.Header.Get("DPoP")
	rec := e.serve(req)
	m := decode[memoryJSON](t, rec, http.StatusCreated)
	bad := e.serve(newRequest(t, http.MethodGet, "/api/v1/memories/"+m.ID, nil))

	lines := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	for sc.Scan() {
		var l map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		if l["msg"] == "http request" {
			id, _ := l["request_id"].(string)
			require.NotContains(t, lines, id, "one line per request")
			lines[id] = l
		}
	}
	l := lines[rec.Header().Get("X-Request-Id")]
	require.NotNil(t, l, e.logs.String())
	require.Equal(t, "POST", l["method"])
	require.Equal(t, "/api/v1/memories", l["route"])
	require.Equal(t, float64(201), l["status"])
	require.Contains(t, l, "latency_ms")
	require.Equal(t, "acme", l["org_id"])
	require.Equal(t, "alice", l["user_id"])

	l = lines[bad.Header().Get("X-Request-Id")]
	require.NotNil(t, l)
	require.Equal(t, "/api/v1/memories/:id", l["route"], "the route template, not the id")
	require.Equal(t, float64(401), l["status"])
	require.NotContains(t, l, "user_id")

	all := e.logs.String()
	require.NotContains(t, all, secret)
	require.NotContains(t, all, alice.token)
	require.NotContains(t, all, proof)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	var down error
	e := newEnv(t, func(o *envOptions) {
		o.cfg.ReadyCacheTTL = -1 // the check changes between two calls
		o.ready = []httpapi.Check{
			{Name: "store", Required: true, Probe: func(ctx context.Context) error { return down }},
			{Name: "index", Required: false, Probe: func(ctx context.Context) error { return errors.New("index at 10.1.2.3 refused") }},
		}
	})
	require.Equal(t, `{"status":"ok"}`, strings.TrimSpace(e.serve(newRequest(t, http.MethodGet, "/healthz", nil)).Body.String()))

	type ready struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status    string   `json:"status"`
			Required  bool     `json:"required"`
			LatencyMS *float64 `json:"latency_ms"`
		} `json:"checks"`
	}
	r := decode[ready](t, e.serve(newRequest(t, http.MethodGet, "/readyz", nil)), http.StatusOK)
	require.Equal(t, "ready", r.Status, "an optional check being down does not make the server unready")
	require.Equal(t, "ok", r.Checks["store"].Status)
	require.NotNil(t, r.Checks["store"].LatencyMS)
	require.Equal(t, "down", r.Checks["index"].Status)

	down = &domain.UnavailableError{Dependency: "postgres"}
	rec := e.serve(newRequest(t, http.MethodGet, "/readyz", nil))
	r = decode[ready](t, rec, http.StatusServiceUnavailable)
	require.Equal(t, "not_ready", r.Status)
	require.Equal(t, "down", r.Checks["store"].Status)
	require.True(t, r.Checks["store"].Required)
	require.NotContains(t, rec.Body.String(), "10.1.2.3", "probe errors stay in the log")
	require.Contains(t, e.logs.String(), "10.1.2.3")
}

// A flood of /readyz costs the dependencies one probe round per TTL: the
// answer is shared, concurrent callers wait for the running round, and a
// round is redone once the TTL has passed (issue 12: /readyz is
// unauthenticated, so without this it is a free amplifier onto PostgreSQL
// and Valkey).
func TestReadyzProbesAtMostOncePerTTL(t *testing.T) {
	t.Parallel()
	probed := func(ttl time.Duration, probes *atomic.Int64) *env {
		return newEnv(t, func(o *envOptions) {
			o.cfg.ReadyCacheTTL = ttl
			o.ready = []httpapi.Check{{Name: "store", Required: true, Probe: func(context.Context) error {
				probes.Add(1)
				time.Sleep(20 * time.Millisecond) // long enough for callers to overlap
				return nil
			}}}
		})
	}
	var shared atomic.Int64
	e := probed(time.Hour, &shared)
	var wg sync.WaitGroup
	var notOK atomic.Int64
	for range 50 {
		req := newRequest(t, http.MethodGet, "/readyz", nil)
		wg.Go(func() {
			if e.serve(req).Code != http.StatusOK {
				notOK.Add(1)
			}
		})
	}
	wg.Wait()
	require.Zero(t, notOK.Load())
	require.EqualValues(t, 1, shared.Load(), "50 callers within the TTL share one probe round")

	var short atomic.Int64
	e = probed(50*time.Millisecond, &short)
	require.Equal(t, http.StatusOK, e.serve(newRequest(t, http.MethodGet, "/readyz", nil)).Code)
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, http.StatusOK, e.serve(newRequest(t, http.MethodGet, "/readyz", nil)).Code)
	require.EqualValues(t, 2, short.Load(), "a round older than the TTL is redone")
}

func TestReadinessTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) {
		o.cfg.ReadyTimeout = 50_000_000 // 50ms
		o.ready = []httpapi.Check{{Name: "slow", Required: true, Probe: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}}}
	})
	rec := e.serve(newRequest(t, http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

// A probe stuck in a driver that ignores its context (lib/pq waiting on a
// frozen server) still yields "not ready" within the bound.
func TestReadinessBoundedWhenAProbeIgnoresItsContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := newEnv(t, func(o *envOptions) {
		o.cfg.ReadyTimeout = 100 * time.Millisecond
		o.ready = []httpapi.Check{{Name: "frozen", Required: true, Probe: func(context.Context) error {
			<-release
			return nil
		}}}
	})
	start := time.Now()
	rec := e.serve(newRequest(t, http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Less(t, time.Since(start), 5*time.Second, "bounded by ReadyTimeout, not by the probe")
	require.Contains(t, rec.Body.String(), `"frozen":{"status":"down"`)
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc := decode[map[string]any](t, e.serve(newRequest(t, http.MethodGet, "/api/v1/openapi.json", nil)), http.StatusOK)
	require.Equal(t, "3.1.0", doc["openapi"])
	paths := doc["paths"].(map[string]any)
	require.Contains(t, paths, "/api/v1/memories/{id}")
	responses := paths["/api/v1/memories/{id}"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)
	require.Contains(t, responses, "200")
	// Fragment routes not turned on are not advertised.
	require.NotContains(t, paths, "/api/v1/search")
	require.NotContains(t, paths, "/api/v1/feedback")

	// Turned on, they are (the services are never called here).
	on := newEnv(t)
	on.server.EnableFeedback(&app.FeedbackService{}, &app.ExperimentService{})
	doc = decode[map[string]any](t, on.serve(newRequest(t, http.MethodGet, "/api/v1/openapi.json", nil)), http.StatusOK)
	paths = doc["paths"].(map[string]any)
	require.Contains(t, paths, "/api/v1/feedback")
	require.NotContains(t, paths, "/api/v1/search", "EnableSearch was not called")
	require.Contains(t, paths, "/api/v1/memories")
}

func TestMountSharesTheStack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.server.Mount("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := httpapi.PrincipalFrom(r.Context())
		if !ok {
			http.Error(w, "no principal", http.StatusInternalServerError)
			return
		}
		id, _ := httpapi.RequestIDFrom(r.Context())
		w.Header().Set("X-Seen-Request-Id", id)
		_, _ = fmt.Fprintf(w, "%s/%s %s", p.OrgID, p.UserID, r.URL.Path)
	}))
	e.server.MountPublic("/.well-known/oauth-protected-resource", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("public"))
	}))

	alice := e.dpopUser("acme", "alice")
	for _, path := range []string{"/mcp", "/mcp/session/1"} {
		rec := alice.do(http.MethodPost, path, map[string]any{"jsonrpc": "2.0"})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, "acme/alice "+path, rec.Body.String())
		require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
		require.Equal(t, rec.Header().Get("X-Request-Id"), rec.Header().Get("X-Seen-Request-Id"))
	}
	rec := e.serve(newRequest(t, http.MethodPost, "/mcp", `{}`))
	requireProblem(t, rec, http.StatusUnauthorized)
	require.NotEmpty(t, rec.Header().Values("WWW-Authenticate"))

	rec = e.serve(newRequest(t, http.MethodGet, "/.well-known/oauth-protected-resource", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "public", rec.Body.String())
}
