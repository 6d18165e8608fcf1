package httpapi

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
)

// CORS for the browser origins in Config.AllowedOrigins (ENGRAM_ALLOWED_ORIGINS),
// on the API and on everything mounted (MCP): a preflight is answered here,
// before authentication, because browsers send it without credentials and
// browser-based MCP clients cannot connect if it meets a 401 (issue 11).
// Responses to an allowed origin carry Access-Control-Allow-Origin so the
// page may read them. Other origins get no CORS headers; the browser then
// keeps the response from the page, and /mcp refuses them outright.
const (
	corsAllowHeaders  = "Authorization, DPoP, Content-Type, Idempotency-Key, X-Request-Id, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID"
	corsExposeHeaders = "WWW-Authenticate, X-Request-Id, Location, Retry-After, Mcp-Session-Id, DPoP-Nonce, Engram-Consistency"
	corsAllowMethods  = "GET, POST, PATCH, DELETE, OPTIONS"
	corsMaxAge        = "600"
)

// normalizeOrigins turns the configured origins into scheme://host[:port]
// the way browsers send them, refusing anything else so a typo fails the
// start instead of silently allowing nothing.
func normalizeOrigins(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, o := range in {
		n, err := normalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("httpapi: allowed origin %q must be http(s)://host[:port] (ENGRAM_ALLOWED_ORIGINS)", o)
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *Server) corsOrigin(origin string) bool {
	if origin == "" || len(s.origins) == 0 {
		return false
	}
	n, err := normalizeOrigin(origin)
	return err == nil && slices.Contains(s.origins, n)
}

func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, h := c.Request(), c.Response().Header()
		origin := req.Header.Get("Origin")
		if origin != "" {
			h.Add("Vary", "Origin")
		}
		if !s.corsOrigin(origin) {
			return next(c)
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}
