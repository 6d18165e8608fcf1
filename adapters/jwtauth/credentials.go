package jwtauth

import (
	"errors"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// SchemeToken is mem0's scheme ("Authorization: Token <key>"); it carries an
// API key, never a JWT.
const SchemeToken = "Token"

// ErrNoCredentials is a request without an Authorization header in a scheme
// Engram speaks: as good as anonymous, so its challenge carries no error
// code (RFC 6750 §3.1).
var ErrNoCredentials = errors.New("no credentials")

// ParseCredentials splits the Authorization and DPoP header values of a
// request, for the REST API and the MCP endpoint alike. Schemes are
// case-insensitive (RFC 9110 §11.1); more than one Authorization or DPoP
// header is refused rather than guessed at. Method and URL are left to the
// caller, which knows its public origin.
func ParseCredentials(authz, dpop []string) (ports.Credentials, error) {
	if len(authz) == 0 {
		return ports.Credentials{}, ErrNoCredentials
	}
	if len(authz) > 1 {
		return ports.Credentials{}, &domain.AuthError{Scheme: SchemeBearer, Code: "invalid_request", Description: "more than one Authorization header"}
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(authz[0]), " ")
	token = strings.TrimSpace(token)
	var c ports.Credentials
	switch {
	case strings.EqualFold(scheme, SchemeBearer):
		c.Scheme = SchemeBearer
	case strings.EqualFold(scheme, SchemeDPoP):
		c.Scheme = SchemeDPoP
	case strings.EqualFold(scheme, SchemeToken):
		c.Scheme = SchemeToken
	default:
		// Basic and friends: not a credential we understand.
		return ports.Credentials{}, ErrNoCredentials
	}
	challenge := c.Scheme
	if challenge == SchemeToken {
		challenge = SchemeBearer
	}
	if token == "" || strings.ContainsAny(token, " \t") {
		return ports.Credentials{}, &domain.AuthError{Scheme: challenge, Code: "invalid_request", Description: "malformed Authorization header"}
	}
	c.Token = token
	switch len(dpop) {
	case 0:
	case 1:
		c.DPoPProof = strings.TrimSpace(dpop[0])
	default:
		return ports.Credentials{}, &domain.AuthError{Scheme: SchemeDPoP, Code: "invalid_dpop_proof", Description: "more than one DPoP header"}
	}
	return c, nil
}
