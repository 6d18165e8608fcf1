package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
)

const ctxRequestID = "engram.request_id"

// requestID keeps a client's X-Request-Id when it is short and printable (so
// a caller can correlate its own logs) and generates one otherwise; the id is
// echoed in the response and in every log line about the request.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), requestIDKey{}, id)))
		return next(c)
	}
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

func requestIDOf(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// securityHeaders are set on every response. The API serves only JSON, so the
// CSP forbids everything a browser might otherwise load from a response.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'; frame-ancestors 'none'")
		h.Set(echo.HeaderXContentTypeOptions, "nosniff")
		h.Set(echo.HeaderXFrameOptions, "DENY")
		h.Set(echo.HeaderReferrerPolicy, "no-referrer")
		h.Set("Cache-Control", "no-store")
		if s.cfg.TLS {
			h.Set(echo.HeaderStrictTransportSecurity, "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// accessLog writes the request's one log line. It renders errors itself so
// that the line carries the status the client really got.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		attrs := []slog.Attr{
			slog.String("request_id", requestIDOf(c)),
			slog.String("method", req.Method),
			slog.String("route", c.Path()),
			slog.Int("status", res.Status),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int64("bytes", res.Size),
		}
		if p, ok := principalOf(c); ok {
			attrs = append(attrs, slog.String("org_id", string(p.OrgID)), slog.String("user_id", string(p.UserID)))
		}
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		if res.Status == http.StatusServiceUnavailable && err != nil {
			// The one line a 503 gets: which dependency and why, so an
			// operator can tell an outage from a refusal that should not
			// have been one. Counted by engram_http_requests_total.
			attrs = append(attrs, unavailableAttrs(err)...)
		}
		if res.Status == http.StatusServiceUnavailable && s.d.OnUnavailable != nil {
			// And counted by the dependency it blames (a mounted
			// handler's own 503 carries no error here: "unknown").
			s.d.OnUnavailable(unavailableDependency(err))
		}
		s.log.LogAttrs(req.Context(), level, "http request", attrs...)
		return nil
	}
}

// recoverPanic turns a handler panic into a 500 problem and an error log
// line with the stack, so one bad request neither kills its connection
// silently nor escapes the access log.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.ErrorContext(c.Request().Context(), "handler panic", "request_id", requestIDOf(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("httpapi: panic: %v", r)
			}
		}()
		return next(c)
	}
}

// deadline bounds an API request's context by RequestTimeout.
func (s *Server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.RequestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// tenantQueryGuard refuses user_id and org_id in the query string: the tenant
// comes only from the verified token, and silently ignoring the parameter
// would let a client believe it had chosen one.
func (s *Server) tenantQueryGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isMem0Path(c.Request().URL.Path) {
			// mem0's routes read user_id themselves: honoured for a
			// project key, refused for anyone naming another user.
			return next(c)
		}
		q := c.Request().URL.Query()
		for _, f := range tenantFields {
			if q.Has(f) {
				return domain.Invalid(f, tenantReason)
			}
		}
		return next(c)
	}
}

var tenantFields = []string{"user_id", "org_id"}

// pathGuard refuses, before routing matters and before authentication, a
// path with dot segments or encoded slashes: the router matches such a path
// literally while a DPoP htu is compared after RFC 3986 normalisation, so
// the two could name different resources (issue 11).
func (s *Server) pathGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := jwtauth.CheckRequestPath(c.Request().URL); err != nil {
			return err
		}
		return next(c)
	}
}

const tenantReason = "is not accepted; the tenant comes only from the access token"

// bodyLimit refuses a declared oversize body at once and caps the rest while
// they are read (chunked bodies have no Content-Length).
func (s *Server) bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		limit := s.cfg.BodyLimit
		if l, ok := s.bodyLimits[c.Path()]; ok {
			limit = l // a route with its own bound (archive import)
		}
		if req.ContentLength > limit {
			return tooLarge(limit)
		}
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		}
		return next(c)
	}
}

func tooLarge(limit int64) error {
	return &sizeError{limit: limit}
}

// sizeError is a body over the limit; it unwraps to domain.ErrTooLarge.
type sizeError struct{ limit int64 }

func (e *sizeError) Error() string { return "request body exceeds the limit" }
func (e *sizeError) Unwrap() error { return domain.ErrTooLarge }

// asTooLarge turns the reader's limit error into a domain one.
func asTooLarge(err error) (error, bool) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit), true
	}
	return err, false
}

// unavailableAttrs names the dependency a 503 blames and the cause.
func unavailableAttrs(err error) []slog.Attr {
	return []slog.Attr{slog.String("dependency", unavailableDependency(err)), slog.String("cause", err.Error())}
}

// unavailableDependency names what a 503 waited for: the dependency an
// UnavailableError names, "deadline" for a request that ran out of time,
// "request" for any other cause, "unknown" when no error reached the log.
func unavailableDependency(err error) string {
	var ue *domain.UnavailableError
	switch {
	case err == nil:
		return "unknown"
	case errors.As(err, &ue) && ue.Dependency != "":
		return ue.Dependency
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	}
	return "request"
}
