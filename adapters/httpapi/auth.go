package httpapi

import (
	"context"
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"

	ctxPrincipal = "engram.principal"
	ctxScheme    = "engram.auth_scheme"
)

// errNoCredentials is a request without an Authorization header in a scheme
// we speak; RFC 6750 §3.1 says its challenge carries no error code.
var errNoCredentials = errors.New("httpapi: no credentials")

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
		c.Set(ctxPrincipal, p)
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), principalKey{}, p)))
		return next(c)
	}
}

// credentialsOf splits the Authorization and DPoP headers. Schemes are
// case-insensitive (RFC 9110 §11.1); more than one Authorization or DPoP
// header is refused rather than guessed at.
func credentialsOf(authz, dpop []string) (ports.Credentials, error) {
	if len(authz) == 0 {
		return ports.Credentials{}, errNoCredentials
	}
	if len(authz) > 1 {
		return ports.Credentials{}, &domain.AuthError{Scheme: schemeBearer, Code: "invalid_request", Description: "more than one Authorization header"}
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(authz[0]), " ")
	token = strings.TrimSpace(token)
	var c ports.Credentials
	switch {
	case strings.EqualFold(scheme, schemeBearer):
		c.Scheme = schemeBearer
	case strings.EqualFold(scheme, schemeDPoP):
		c.Scheme = schemeDPoP
	default:
		// Basic and friends: not a credential we understand, so the
		// request is as good as anonymous.
		return ports.Credentials{}, errNoCredentials
	}
	if token == "" || strings.ContainsAny(token, " \t") {
		return ports.Credentials{}, &domain.AuthError{Scheme: c.Scheme, Code: "invalid_request", Description: "malformed Authorization header"}
	}
	c.Token = token
	switch len(dpop) {
	case 0:
	case 1:
		c.DPoPProof = strings.TrimSpace(dpop[0])
	default:
		return ports.Credentials{}, &domain.AuthError{Scheme: schemeDPoP, Code: "invalid_dpop_proof", Description: "more than one DPoP header"}
	}
	return c, nil
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
