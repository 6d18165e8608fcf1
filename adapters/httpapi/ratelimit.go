package httpapi

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RateLimits are each user's token buckets, one per class of route. A zero
// RateLimit leaves its class unlimited; with no Deps.Limiter nothing is.
type RateLimits struct {
	Reads  ports.RateLimit // GET routes
	Writes ports.RateLimit // POST, PATCH and DELETE routes
}

func (r RateLimits) validate() error {
	for name, l := range map[string]ports.RateLimit{"reads": r.Reads, "writes": r.Writes} {
		if l == (ports.RateLimit{}) {
			continue
		}
		if err := l.Check(name, 1); err != nil {
			return fmt.Errorf("httpapi: %s rate limit: %w", name, err)
		}
	}
	return nil
}

// rateLimit admits one request of the authenticated caller from its
// per-user bucket for the route's class. It runs after authentication so
// the bucket is the verified tenant's, never a client-chosen name. A
// limiter that cannot decide (Valkey down) lets the request through:
// refusing every request because a counter is unavailable would turn a
// cache outage into a full one. The RateLimit-* headers follow
// draft-ietf-httpapi-ratelimit-headers.
func (s *Server) rateLimit(method string) echo.MiddlewareFunc {
	class, limit := "writes", s.cfg.RateLimits.Writes
	if method == http.MethodGet {
		class, limit = "reads", s.cfg.RateLimits.Reads
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if s.d.Limiter == nil || limit == (ports.RateLimit{}) {
			return next
		}
		return func(c echo.Context) error {
			p, ok := principalOf(c)
			if !ok {
				return next(c)
			}
			// '/' cannot occur in an org or user id, so keys cannot collide.
			key := class + ":" + string(p.OrgID) + "/" + string(p.UserID)
			d, err := s.d.Limiter.Allow(c.Request().Context(), key, limit, 1)
			if err != nil {
				if !errors.Is(err, domain.ErrUnavailable) {
					// New checked the limit, so this is a bug, not the
					// client's fault: %v keeps it from mapping to a 400.
					return fmt.Errorf("httpapi: rate limiter: %v", err)
				}
				s.log.WarnContext(c.Request().Context(), "rate limiter unavailable; admitting", "request_id", requestIDOf(c), "err", err)
				return next(c)
			}
			h := c.Response().Header()
			h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
			h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
			h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.Reset)))
			if !d.Allowed {
				return &rateLimitError{retryAfter: ceilSeconds(d.RetryAfter)}
			}
			return next(c)
		}
	}
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
