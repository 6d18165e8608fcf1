package telemetry_test

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/telemetry"
)

// The route label is the template the router reported through the
// response writer (httpapi.RouteSetter); a request it reported none for is
// "other".
func TestRouteLabelIsTheTemplateTheRouterReports(t *testing.T) {
	tel := newT(t, "")
	h := tel.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/memories/01JX0000000000000000000000" {
			w.(interface{ SetRoute(string) }).SetRoute("/api/v1/memories/:id")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	for _, p := range []string{"/api/v1/memories/01JX0000000000000000000000", "/api/v1/nothing-here"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	require.EqualValues(t, 1, metric(t, tel, "engram_http_requests_total",
		map[string]string{"method": "GET", "route": "/api/v1/memories/:id", "status": "204"}).GetCounter().GetValue())
	require.EqualValues(t, 1, metric(t, tel, "engram_http_requests_total",
		map[string]string{"method": "GET", "route": "other", "status": "204"}).GetCounter().GetValue())
}

func randomString(t *testing.T, alphabet string, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		require.NoError(t, err)
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

// Requests for paths and methods nobody serves, sent without a token,
// add no series: the labels come only from route templates and a fixed
// method set. (13,000 such requests used to grow /metrics to 22 MB.)
func TestJunkPathsAndMethodsDoNotGrowTheSeries(t *testing.T) {
	tel := newT(t, "")
	h := tel.HTTP(http.NotFoundHandler())
	send := func(method, path string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Method, req.URL.Path = method, path
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	series := func() int {
		mfs, err := tel.Registry.Gather()
		require.NoError(t, err)
		n := 0
		for _, mf := range mfs {
			if strings.HasPrefix(mf.GetName(), "engram_http_") {
				n += len(mf.GetMetric())
			}
		}
		return n
	}
	send("GET", "/warm-up")
	send("BREW", "/api/v1/memories")
	send("BREW", "/warm-up")
	send(http.MethodPost, "/warm-up")
	before := series()
	for i := range 1000 {
		method := randomString(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3+i%8)
		prefix := []string{"/", "/api/v1/", "/api/v1/memories/x/", "/mcp/", "/.well-known/", "/api/"}[i%6]
		path := prefix + randomString(t, "abcdefghijklmnopqrstuvwxyz0123456789-_.", 1+i%40)
		send(method, path)
		send(http.MethodGet, path)
		send(http.MethodPost, fmt.Sprintf("%s/%d", path, i))
	}
	require.Equal(t, before, series(), "junk requests added series")
	require.Equal(t, "other", telemetry.Method("BREW"))
	require.Equal(t, http.MethodPatch, telemetry.Method(http.MethodPatch))
}
