package httpapi

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

const (
	ctxPrincipal = "engram.principal"
	ctxScheme    = "engram.auth_scheme"
	// ctxCommit holds the DPoP replay check left to make once the rate
	// limiter has admitted the request (commitReplay).
	ctxCommit = "engram.replay_commit"
)

// errNoCredentials is a request without an Authorization header in a scheme
// we speak; RFC 6750 §3.1 says its challenge carries no error code.
var errNoCredentials = jwtauth.ErrNoCredentials

// errProjectKeyHere refuses a project key where the user comes from the
// credential: a project key names its user per request, which only the
// mem0-compatible routes accept.
var errProjectKeyHere = &domain.ForbiddenError{Reason: "a project key acts for the user_id each request names, which only the mem0-compatible routes take; use a user key here"}

type principalKey struct{}

// PrincipalFrom returns the verified caller of a request that went through
// the authentication middleware (every /api/v1 route and every Mount).
func PrincipalFrom(ctx context.Context) (domain.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(domain.Principal)
	return p, ok
}

func principalOf(c echo.Context) (domain.Principal, bool) {
	p, ok := c.Get(ctxPrincipal).(domain.Principal)
	return p, ok
}

func schemeOf(c echo.Context) string {
	s, _ := c.Get(ctxScheme).(string)
	return s
}

// authenticate verifies the request's credentials and stores the principal
// in the echo context and in the request context (for mounted handlers).
// A DPoP proof's replay check is left for commitReplay, which the rate
// limiter runs once it admits the request.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.verifyRequest(c)
		if err != nil {
			return err
		}
		if p.ProjectKey {
			return errProjectKeyHere
		}
		return next(c)
	}
}

// verifyRequest is authentication up to the principal: the per-address
// guard first (an address that has spent its failed-authentication budget
// is refused before its credentials cost anything), then the verifier
// without the replay check, whose commit is kept in the context.
func (s *Server) verifyRequest(c echo.Context) (domain.Principal, error) {
	req := c.Request()
	if err := s.d.AddressGuard.Admit(req.RemoteAddr); err != nil {
		return domain.Principal{}, err
	}
	creds, err := credentialsOf(req.Header.Values(echo.HeaderAuthorization), req.Header.Values("DPoP"))
	if err != nil {
		return domain.Principal{}, err
	}
	c.Set(ctxScheme, creds.Scheme)
	creds.Method = req.Method
	// htu is the configured origin plus the path the client addressed;
	// the query is not part of htu (RFC 9449 §4.2).
	creds.URL = s.origin + req.URL.EscapedPath()
	p, commit, err := ports.VerifyDeferred(req.Context(), s.d.Verifier, creds)
	if err != nil {
		if errors.Is(err, domain.ErrUnauthenticated) {
			s.d.AddressGuard.Failed(req.RemoteAddr)
		}
		return domain.Principal{}, err
	}
	c.Set(ctxPrincipal, p)
	if commit != nil {
		c.Set(ctxCommit, commit)
	}
	c.SetRequest(req.WithContext(context.WithValue(req.Context(), principalKey{}, p)))
	return p, nil
}

// commitReplay makes the DPoP replay check authenticate left, once: a
// replayed proof is refused here, after the rate limiter admitted the
// request and before any handler runs.
func commitReplay(c echo.Context) error {
	commit, ok := c.Get(ctxCommit).(func(context.Context) error)
	if !ok {
		return nil
	}
	c.Set(ctxCommit, nil)
	return commit(c.Request().Context())
}

// commitReplayMW is commitReplay as middleware, for routes without a rate
// limiter of their own (mounted handlers).
func commitReplayMW(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := commitReplay(c); err != nil {
			return err
		}
		return next(c)
	}
}

// credentialsOf splits the Authorization and DPoP headers with the parser
// the MCP endpoint shares.
func credentialsOf(authz, dpop []string) (ports.Credentials, error) {
	return jwtauth.ParseCredentials(authz, dpop)
}

// requireScope refuses a principal without scope before the handler runs,
// so that every route states its scope in one visible place. The use cases
// check again; this is the edge's copy of the rule, not the only one.
func requireScope(scope domain.Scope) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := principalOf(c)
			if !ok {
				return errNoCredentials
			}
			if err := p.Require(scope); err != nil {
				return err
			}
			return next(c)
		}
	}
}
