package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// RouteSetter is what a response writer wrapping the server's handler (the
// telemetry middleware) implements to learn the route template the router
// matched: "/api/v1/memories/:id", never the path with its identifiers.
// It is found through the Unwrap chain of http.ResponseController.
type RouteSetter interface {
	SetRoute(template string)
}

// reportRoute tells the outer writer the template echo matched (c.Path()),
// so metrics and traces are labelled by the router's own table and not by
// a second one that could drift from it. A request no route matches
// reports nothing (the outer layer counts it as "other"): for such
// requests echo's c.Path() is a prefix of some route, or empty.
func (s *Server) reportRoute(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if rs := routeSetterOf(c.Response().Writer); rs != nil {
			if p := c.Path(); s.isRoute(p) {
				rs.SetRoute(p + searchMark(c, p))
			}
		}
		return next(c)
	}
}

func routeSetterOf(w http.ResponseWriter) RouteSetter {
	for w != nil {
		if rs, ok := w.(RouteSetter); ok {
			return rs
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// isRoute reports whether p is a registered route template. The set is
// built at the first request, after every route is registered (Mount
// included).
func (s *Server) isRoute(p string) bool {
	s.routeSetOnce.Do(func() {
		s.routeSet = map[string]bool{}
		for _, r := range s.e.Routes() {
			if r.Method != echo.RouteNotFound {
				s.routeSet[r.Path] = true
			}
		}
	})
	return s.routeSet[p]
}

// searchMark labels a search through GET /api/v1/memories (a q parameter)
// apart from a list of the same route, so that search latency and errors
// have their own series ("/api/v1/memories?q"); the dashboard's stats page
// reads them.
func searchMark(c echo.Context, route string) string {
	if route == "/api/v1/memories" && c.Request().Method == http.MethodGet && c.QueryParam("q") != "" {
		return "?q"
	}
	return ""
}
