package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
)

func TestRouteClass(t *testing.T) {
	e := echo.New()
	for _, tc := range []struct {
		method, route, target string
		want                  app.RouteClass
	}{
		{http.MethodGet, "/api/v1/memories", "/api/v1/memories", app.ClassReads},
		{http.MethodGet, "/api/v1/memories", "/api/v1/memories?q=", app.ClassReads},
		{http.MethodGet, "/api/v1/memories", "/api/v1/memories?q=lyon", app.ClassSearch},
		{http.MethodGet, "/api/v1/memories/:id", "/api/v1/memories/x?q=lyon", app.ClassReads},
		{http.MethodPost, "/api/v1/memories", "/api/v1/memories", app.ClassWrites},
		{http.MethodPatch, "/api/v1/memories/:id", "/api/v1/memories/x", app.ClassWrites},
		{http.MethodDelete, "/api/v1/memories/:id", "/api/v1/memories/x", app.ClassWrites},
		{http.MethodPost, "/api/v1/search", "/api/v1/search", app.ClassSearch},
		{http.MethodGet, "/api/v1/sessions/:session_id/context", "/api/v1/sessions/s/context", app.ClassSearch},
		{http.MethodGet, "/api/v1/sessions/:session_id/events", "/api/v1/sessions/s/events", app.ClassReads},
		{http.MethodPost, "/api/v1/sessions/:session_id/promote", "/api/v1/sessions/s/promote", app.ClassWrites},
		{http.MethodGet, "/api/v1/stats", "/api/v1/stats", app.ClassReads},
	} {
		c := e.NewContext(httptest.NewRequest(tc.method, tc.target, nil), httptest.NewRecorder())
		require.Equal(t, tc.want, routeClass(tc.method, tc.route)(c), "%s %s", tc.method, tc.target)
	}
}
