package telemetry_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func newT(t *testing.T, endpoint string) *telemetry.T {
	t.Helper()
	tel, err := telemetry.New(context.Background(), telemetry.Config{OTLPEndpoint: endpoint})
	require.NoError(t, err)
	return tel
}

func openSQLite(t *testing.T) *sqlitestore.Store {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

func TestDecoratedStoreKeepsTheContract(t *testing.T) {
	tel := newT(t, "")
	contracttest.RunMemoryStore(t, func(t *testing.T) ports.MemoryStore { return storeOf(tel, "sqlite", openSQLite(t)) })
}

func TestDecoratedIdempotencyStoreKeepsTheContract(t *testing.T) {
	tel := newT(t, "")
	contracttest.RunIdempotencyStore(t, func(t *testing.T) ports.IdempotencyStore {
		s := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{SweepEvery: 50 * time.Millisecond})
		t.Cleanup(func() { _ = s.Close() })
		return idempotencyOf(tel, "inproc", s)
	})
}

// metric finds one sample by name and labels in the registry.
func metric(t *testing.T, tel *telemetry.T, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := tel.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

func TestStoreCallsAreMeasuredByOutcome(t *testing.T) {
	tel := newT(t, "")
	st := storeOf(tel, "sqlite", openSQLite(t))
	ten := domain.Tenant{OrgID: "o", UserID: "u"}
	m, err := domain.NewMemory(ten, "app", "measured memory", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = st.Create(context.Background(), ten, m)
	require.NoError(t, err)
	_, err = st.Get(context.Background(), ten, m.ID)
	require.NoError(t, err)
	_, err = st.Get(context.Background(), ten, domain.NewMemoryID(time.Now()))
	require.ErrorIs(t, err, domain.ErrNotFound)

	ok := metric(t, tel, "engram_dependency_duration_seconds", map[string]string{"dependency": "sqlite", "operation": "get", "outcome": "ok"})
	require.NotNil(t, ok)
	require.EqualValues(t, 1, ok.GetHistogram().GetSampleCount())
	nf := metric(t, tel, "engram_dependency_duration_seconds", map[string]string{"dependency": "sqlite", "operation": "get", "outcome": "client_error"})
	require.NotNil(t, nf)
	require.EqualValues(t, 1, nf.GetHistogram().GetSampleCount())
	up := metric(t, tel, "engram_dependency_up", map[string]string{"dependency": "sqlite"})
	require.NotNil(t, up)
	require.EqualValues(t, 1, up.GetGauge().GetValue(), "a not-found answer is the store working")
	require.NotNil(t, metric(t, tel, "go_goroutines", nil), "Go runtime collector registered")
}

// downLimiter is a limiter whose backend is gone.
type downLimiter struct{}

func (downLimiter) Allow(context.Context, string, ports.RateLimit, int) (ports.RateDecision, error) {
	return ports.RateDecision{}, &domain.UnavailableError{Dependency: "valkey"}
}

func TestRateLimiterCountsRejectionsAndFailOpen(t *testing.T) {
	tel := newT(t, "")
	real := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	t.Cleanup(func() { _ = real.Close() })
	l := limiterOf(tel, "inproc", real)
	lim := ports.RateLimit{Burst: 2, Period: time.Minute}
	for range 5 {
		_, err := l.Allow(context.Background(), "k", lim, 1)
		require.NoError(t, err)
	}
	require.EqualValues(t, 3, metric(t, tel, "engram_rate_limit_rejections_total", map[string]string{"dependency": "inproc"}).GetCounter().GetValue())

	down := limiterOf(tel, "valkey", downLimiter{})
	_, err := down.Allow(context.Background(), "k", lim, 1)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.EqualValues(t, 1, metric(t, tel, "engram_rate_limit_fail_open_total", map[string]string{"dependency": "valkey"}).GetCounter().GetValue())
	require.EqualValues(t, 0, metric(t, tel, "engram_dependency_up", map[string]string{"dependency": "valkey"}).GetGauge().GetValue())
}

// collector is a loopback OTLP/HTTP receiver that keeps what it was sent.
type collector struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
		c.mu.Lock()
		c.bodies = append(c.bodies, b)
		c.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (c *collector) all() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Join(c.bodies, nil)
}

func TestTracesReachTheCollectorAndContinueTheCallersTrace(t *testing.T) {
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	tel := newT(t, srv.URL)

	var logs bytes.Buffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&logs, nil)))
	st := storeOf(tel, "sqlite", openSQLite(t))
	h := tel.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(interface{ SetRoute(string) }).SetRoute("/api/v1/stats") // as httpapi's router does
		_, err := st.Stats(r.Context(), domain.Tenant{OrgID: "o", UserID: "u"})
		require.NoError(t, err)
		log.InfoContext(r.Context(), "http request")
		w.WriteHeader(http.StatusNoContent)
	}))
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req := httptest.NewRequest(http.MethodGet, "/api/v1/stats", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Contains(t, logs.String(), `"trace_id":"`+traceID+`"`)

	require.NoError(t, tel.Shutdown(context.Background()))
	raw, err := hex.DecodeString(traceID)
	require.NoError(t, err)
	got := col.all()
	require.True(t, bytes.Contains(got, raw), "the exported spans carry the caller's trace id")
	require.True(t, bytes.Contains(got, []byte("sqlite.stats")), "the store call has its own span")
	require.True(t, bytes.Contains(got, []byte("GET /api/v1/stats")), "the HTTP span is named by route")
	require.EqualValues(t, 1, metric(t, tel, "engram_http_requests_total", map[string]string{"route": "/api/v1/stats", "status": "204"}).GetCounter().GetValue())
}

func TestTransportInjectsTraceparent(t *testing.T) {
	tel := newT(t, "")
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("traceparent") }))
	defer srv.Close()
	client := &http.Client{Transport: tel.Transport(nil)}
	h := tel.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, srv.URL, nil)
		res, err := client.Do(req)
		require.NoError(t, err)
		res.Body.Close()
	}))
	req := httptest.NewRequest(http.MethodGet, "/api/v1/stats", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	require.Contains(t, got, "4bf92f3577b34da6a3ce929d0e0e4736")
}

// A collector that is down costs dropped spans and one throttled warning
// in our own log, never a failed call.
func TestExportFailuresAreLoggedNotFatal(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens there any more
	tel, err := telemetry.New(context.Background(), telemetry.Config{OTLPEndpoint: dead.URL, Logger: slog.New(slog.NewJSONHandler(w, nil))})
	require.NoError(t, err)
	st := storeOf(tel, "sqlite", openSQLite(t))
	for range 3 {
		_, err := st.Stats(context.Background(), domain.Tenant{OrgID: "o", UserID: "u"})
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tel.Shutdown(ctx) // reports the failed flush too
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return bytes.Contains(logs.Bytes(), []byte("trace export failed"))
	}, 5*time.Second, 50*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("trace export failed")), "throttled")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestProbeMovesTheUpGauge(t *testing.T) {
	tel := newT(t, "")
	var down bool
	probe := tel.Probe("valkey", func(context.Context) error {
		if down {
			return &domain.UnavailableError{Dependency: "valkey"}
		}
		return nil
	})
	require.NoError(t, probe(context.Background()))
	require.EqualValues(t, 1, metric(t, tel, "engram_dependency_up", map[string]string{"dependency": "valkey"}).GetGauge().GetValue())
	down = true
	require.ErrorIs(t, probe(context.Background()), domain.ErrUnavailable)
	require.EqualValues(t, 0, metric(t, tel, "engram_dependency_up", map[string]string{"dependency": "valkey"}).GetGauge().GetValue())
	require.EqualValues(t, 1, metric(t, tel, "engram_dependency_duration_seconds", map[string]string{"dependency": "valkey", "operation": "probe", "outcome": "unavailable"}).GetHistogram().GetSampleCount())
}
