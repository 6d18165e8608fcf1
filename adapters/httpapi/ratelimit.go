package httpapi

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// DefaultRateLimit applies when Deps.Limiter is set and Config.RateLimit is
// zero: a burst of 600 requests, refilled over a minute, per user.
var DefaultRateLimit = ports.RateLimit{Burst: 600, Period: time.Minute}

// rateLimit admits one request of the authenticated caller from its
// per-user bucket. It runs after authentication so the bucket is the
// verified tenant's, never a client-chosen name. A limiter that cannot
// decide (Valkey down) lets the request through: refusing every request
// because a counter is unavailable would turn a cache outage into a full
// one. The RateLimit-* headers follow draft-ietf-httpapi-ratelimit-headers.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	if s.d.Limiter == nil {
		return next
	}
	return func(c echo.Context) error {
		p, ok := principalOf(c)
		if !ok {
			return next(c)
		}
		// '/' cannot occur in an org or user id, so keys cannot collide.
		key := "user:" + string(p.OrgID) + "/" + string(p.UserID)
		d, err := s.d.Limiter.Allow(c.Request().Context(), key, s.cfg.RateLimit, 1)
		if err != nil {
			if !errors.Is(err, domain.ErrUnavailable) {
				// New checked the limit, so this is a bug, not the client's
				// fault: %v keeps it from mapping to a 400.
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

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
