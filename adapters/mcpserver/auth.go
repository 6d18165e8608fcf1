package mcpserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// MetadataPath is where the lead mounts MetadataHandler; the 401 challenge
// points clients at it.
const MetadataPath = "/.well-known/oauth-protected-resource"

// authenticate verifies the request's credentials with the same verifier as
// the REST API. On failure it has written the response (401 with a
// challenge, 503 when the verifier cannot decide) and returns false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (domain.Principal, bool) {
	creds, err := s.credentials(r)
	if err != nil {
		s.unauthorized(w, r, err)
		return domain.Principal{}, false
	}
	p, err := s.deps.Verifier.Verify(r.Context(), creds)
	switch {
	case err == nil:
		return p, true
	case errors.Is(err, domain.ErrUnauthenticated):
		s.unauthorized(w, r, err)
	case errors.Is(err, domain.ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		writeProblem(w, http.StatusServiceUnavailable, "token verification is temporarily unavailable")
	default:
		s.log.ErrorContext(r.Context(), "mcp: verify token", "err", err)
		writeProblem(w, http.StatusInternalServerError, "internal error")
	}
	return domain.Principal{}, false
}

// errNoCredentials marks a request without an Authorization header: the
// challenge then carries no error code (RFC 6750 §3.1).
var errNoCredentials = errors.New("no credentials")

// credentials splits the Authorization and DPoP headers. The URL a DPoP
// proof must name is the configured public origin plus the path, never the
// Host header, which a client or proxy controls.
func (s *Server) credentials(r *http.Request) (ports.Credentials, error) {
	authz := r.Header.Values("Authorization")
	if len(authz) == 0 {
		return ports.Credentials{}, errNoCredentials
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(authz[0]), " ")
	token = strings.TrimSpace(token)
	if len(authz) > 1 || !ok || token == "" || strings.ContainsAny(token, " \t") {
		return ports.Credentials{}, &domain.AuthError{Scheme: "Bearer", Code: "invalid_request", Description: "malformed Authorization header"}
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		scheme = "Bearer"
	case strings.EqualFold(scheme, "DPoP"):
		scheme = "DPoP"
	default:
		return ports.Credentials{}, &domain.AuthError{Scheme: "Bearer", Code: "invalid_request", Description: "unsupported authorization scheme"}
	}
	proofs := r.Header.Values("DPoP")
	if len(proofs) > 1 {
		return ports.Credentials{}, &domain.AuthError{Scheme: "DPoP", Code: "invalid_dpop_proof", Description: "more than one DPoP header"}
	}
	c := ports.Credentials{Scheme: scheme, Token: token, Method: r.Method, URL: s.cfg.PublicURL + r.URL.EscapedPath()}
	if len(proofs) == 1 {
		c.DPoPProof = proofs[0]
	}
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
