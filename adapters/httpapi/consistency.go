package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ConsistencyHeader carries a commit position (domain.Consistency): on the
// response to a write, how far the store's commit log had got once the
// write committed; on a request, the position its reads must see.
const ConsistencyHeader = "Engram-Consistency"

// consistency reads the request's Engram-Consistency header into the
// context (ports.WithReadAfter), refusing a malformed one with 400 before
// anything runs; a position the primary has not reached is refused by the
// store, also 400. When the store reads from replicas, the response to a
// successful write (any method but GET, HEAD and OPTIONS, outside /mcp,
// which keeps positions per session itself) is stamped with the position
// after it, so the client can read its own write from any instance.
func (s *Server) consistency(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if v := req.Header.Get(ConsistencyHeader); v != "" {
			pos, err := domain.ParseConsistency(strings.TrimSpace(v))
			if err != nil {
				return err
			}
			c.SetRequest(req.WithContext(ports.WithReadAfter(req.Context(), pos)))
		}
		if s.d.Positions != nil && isWrite(req.Method) && !strings.HasPrefix(req.URL.Path, "/mcp") {
			res := c.Response()
			res.Before(func() {
				if res.Status >= http.StatusBadRequest {
					return
				}
				// The handler has returned from the store: its commit is
				// behind the position read now.
				if pos, err := s.d.Positions.CommitPosition(c.Request().Context()); err == nil {
					res.Header().Set(ConsistencyHeader, pos.String())
				}
			})
		}
		return next(c)
	}
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}
