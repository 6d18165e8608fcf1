package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// MetadataPath is where the lead mounts MetadataHandler; the 401 challenge
// points clients at it.
const MetadataPath = "/.well-known/oauth-protected-resource"

// authenticate verifies the request's credentials with the same verifier as
// the REST API, leaving a DPoP proof's replay check to the returned commit
// (nil when none), which the caller makes once it admits the request. On
// failure it has written the response (401 with a challenge, 429 for an
// address over its failed-authentication budget, 503 when the verifier
// cannot decide) and returns false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (domain.Principal, func(context.Context) error, bool) {
	if err := s.deps.AddressGuard.Admit(r.RemoteAddr); err != nil {
		s.authFailed(w, r, err)
		return domain.Principal{}, nil, false
	}
	creds, err := s.credentials(r)
	if err != nil {
		s.unauthorized(w, r, err)
		return domain.Principal{}, nil, false
	}
	p, commit, err := ports.VerifyDeferred(r.Context(), s.deps.Verifier, creds)
	switch {
	case err == nil && p.ProjectKey:
		// A project key names its user per request; MCP tools have no
		// user argument, so it cannot act here.
		writeProblem(w, http.StatusForbidden, "a project key cannot be used on MCP: use a user key or a token")
	case err == nil:
		return p, commit, true
	default:
		if errors.Is(err, domain.ErrUnauthenticated) {
			s.deps.AddressGuard.Failed(r.RemoteAddr)
		}
		s.authFailed(w, r, err)
	}
	return domain.Principal{}, nil, false
}

// authFailed answers a refused or undecidable credential.
func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ale *app.AddressLimitedError
	switch {
	case errors.As(err, &ale):
		w.Header().Set("Retry-After", strconv.Itoa(ale.RetryAfterSeconds()))
		writeProblem(w, http.StatusTooManyRequests, "too many failed authentications from this address; retry later")
	case errors.Is(err, domain.ErrUnauthenticated):
		s.unauthorized(w, r, err)
	case errors.Is(err, domain.ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		writeProblem(w, http.StatusServiceUnavailable, "token verification is temporarily unavailable")
	default:
		s.log.ErrorContext(r.Context(), "mcp: verify token", "err", err)
		writeProblem(w, http.StatusInternalServerError, "internal error")
	}
}

// credentials splits the Authorization and DPoP headers with the parser the
// REST API shares. The URL a DPoP proof must name is the configured public
// origin plus the path, never the Host header, which a client or proxy
// controls.
func (s *Server) credentials(r *http.Request) (ports.Credentials, error) {
	authz := r.Header.Values("Authorization")
	c, err := jwtauth.ParseCredentials(authz, r.Header.Values("DPoP"))
	if errors.Is(err, jwtauth.ErrNoCredentials) && len(authz) > 0 {
		// An MCP client that sent something meant it as a credential:
		// tell it the scheme is wrong rather than ask for one.
		return ports.Credentials{}, &domain.AuthError{Scheme: jwtauth.SchemeBearer, Code: "invalid_request", Description: "unsupported authorization scheme"}
	}
	if err != nil {
		return ports.Credentials{}, err
	}
	c.Method, c.URL = r.Method, s.cfg.PublicURL+r.URL.EscapedPath()
	return c, nil
}

// unauthorized answers 401 with the challenge the MCP authorization spec
// asks for: resource_metadata always, the RFC 6750/9449 error when a
// credential was refused.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	params := []string{`resource_metadata="` + s.metadataURL() + `"`}
	scheme := "Bearer"
	var ae *domain.AuthError
	if errors.As(err, &ae) {
		if ae.Scheme == "DPoP" {
			scheme = "DPoP"
			params = append([]string{`algs="` + strings.Join(s.cfg.DPoPAlgs, " ") + `"`}, params...)
		}
		params = append(params, `error="`+quote(ae.Code)+`"`, `error_description="`+quote(ae.Description)+`"`)
	}
	w.Header().Add("WWW-Authenticate", scheme+" "+strings.Join(params, ", "))
	detail := "authentication required: send Authorization: Bearer <token>"
	status := http.StatusUnauthorized
	if ae != nil {
		detail = ae.Code + ": " + ae.Description
		if ae.Code == "invalid_request" { // RFC 6750 §3.1: a malformed request
			status = http.StatusBadRequest
		}
	}
	writeProblem(w, status, detail)
}

func (s *Server) metadataURL() string { return s.cfg.PublicURL + MetadataPath }

// quote keeps a challenge parameter a valid quoted-string.
func quote(v string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return '\''
		}
		return r
	}, v)
}

// writeProblem writes an RFC 9457 problem document, the shape every Engram
// HTTP error has.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail,
	})
}
