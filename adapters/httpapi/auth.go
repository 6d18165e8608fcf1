package httpapi

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

const (
	ctxPrincipal = "engram.principal"
	ctxScheme    = "engram.auth_scheme"
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
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		creds, err := credentialsOf(req.Header.Values(echo.HeaderAuthorization), req.Header.Values("DPoP"))
		if err != nil {
			return err
		}
		c.Set(ctxScheme, creds.Scheme)
		creds.Method = req.Method
		// htu is the configured origin plus the path the client addressed;
		// the query is not part of htu (RFC 9449 §4.2).
		creds.URL = s.origin + req.URL.EscapedPath()
		p, err := s.d.Verifier.Verify(req.Context(), creds)
		if err != nil {
			return err
		}
		if p.ProjectKey {
			return errProjectKeyHere
		}
		c.Set(ctxPrincipal, p)
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), principalKey{}, p)))
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
