package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
)

// classifier names the bucket a request draws from. It takes the request,
// not just the route, because GET /api/v1/memories?q= is a search while the
// same route without q is a plain read.
type classifier func(c echo.Context) app.RouteClass

// routeClass is the classifier of one route. Searches have their own class
// because they embed the query and hit both indexes: a client paging through
// its memories must not spend the budget its agent needs to search, nor the
// other way round.
func routeClass(method, path string) classifier {
	fixed := func(rc app.RouteClass) classifier { return func(echo.Context) app.RouteClass { return rc } }
	switch {
	case method == http.MethodPost && path == "/api/v1/search",
		method == http.MethodGet && strings.HasSuffix(path, "/context") && strings.HasPrefix(path, "/api/v1/sessions/"):
		return fixed(app.ClassSearch)
	case method == http.MethodGet && path == "/api/v1/memories":
		return func(c echo.Context) app.RouteClass {
			if c.QueryParam("q") != "" {
				return app.ClassSearch
			}
			return app.ClassReads
		}
	case method == http.MethodGet:
		return fixed(app.ClassReads)
	}
	return fixed(app.ClassWrites)
}

// rateLimit admits one request of the authenticated caller from its
// per-principal bucket of the route's class (app.RateLimitService holds the
// policy, the keys and the header values). It runs after authentication so
// the bucket is the verified tenant's, never a client-chosen name, and before
// the scope check so a flood of refused requests still costs tokens.
//
// Every header the decision yields (RateLimit and RateLimit-Policy per
// draft-ietf-httpapi-ratelimit-headers, X-RateLimit-*, Retry-After when
// refused) is set before the handler runs, so it goes out on the success
// response and on any problem alike. A limiter that cannot decide (Valkey
// down) admits the request without headers: the service logs and counts it.
//
// Only once the request is admitted is the DPoP proof's replay check made
// (commitReplay): a client over its budget never writes the replay cache.
func (s *Server) rateLimit(class classifier) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if s.d.RateLimits == nil {
			return commitReplayMW(next)
		}
		return func(c echo.Context) error {
			p, ok := principalOf(c)
			if !ok {
				return next(c)
			}
			res, err := s.d.RateLimits.Check(c.Request().Context(), p, class(c))
			h := c.Response().Header()
			for _, rh := range res.Headers {
				h.Set(rh.Name, rh.Value)
			}
			if err != nil {
				var refused *app.RateLimitedError
				if errors.As(err, &refused) {
					return err
				}
				// An unknown class or invalid limit is a wiring bug, not
				// the client's fault: %v keeps it from mapping to a 400.
				return fmt.Errorf("httpapi: rate limit: %v", err)
			}
			if err := commitReplay(c); err != nil {
				return err
			}
			return next(c)
		}
	}
}
