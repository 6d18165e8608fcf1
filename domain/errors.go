package domain

import (
	"errors"
	"fmt"
)

// The closed set of error kinds. Adapters wrap backend failures into one of
// these with %w; callers compare with errors.Is; the HTTP and MCP edges map
// each kind to one response shape in one place.
var (
	ErrNotFound        = errors.New("not found")
	ErrAlreadyExists   = errors.New("already exists")
	ErrConflict        = errors.New("conflict")
	ErrInvalid         = errors.New("invalid")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	ErrUnavailable     = errors.New("unavailable")
	ErrTooLarge        = errors.New("too large")
	ErrRateLimited     = errors.New("rate limited")
)

// ValidationError names the offending field and why it was refused. It unwraps
// to ErrInvalid so errors.Is(err, ErrInvalid) holds.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Invalid builds a *ValidationError.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ForbiddenError carries the scope a caller lacked so the edge can answer
// RFC 6750 insufficient_scope. It unwraps to ErrForbidden.
type ForbiddenError struct {
	MissingScope Scope
	Reason       string
}

func (e *ForbiddenError) Error() string {
	if e.MissingScope != "" {
		return fmt.Sprintf("forbidden: missing scope %q", e.MissingScope)
	}
	return "forbidden: " + e.Reason
}

func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

// UnavailableError says a dependency is down and when to retry. It unwraps to
// ErrUnavailable.
type UnavailableError struct {
	Dependency string
	RetryAfter int // seconds; 0 when unknown
	Err        error
}

func (e *UnavailableError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s unavailable: %v", e.Dependency, e.Err)
	}
	return e.Dependency + " unavailable"
}

func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// AuthError is a refused credential. Scheme and Code feed the
// WWW-Authenticate challenge (RFC 6750 §3, RFC 9449 §7.1): Code is
// invalid_request, invalid_token or invalid_dpop_proof. It unwraps to
// ErrUnauthenticated.
type AuthError struct {
	Scheme      string // "Bearer" or "DPoP"
	Code        string
	Description string
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Description)
}

func (e *AuthError) Unwrap() error { return ErrUnauthenticated }

// QuotaError is a per-user quota of shared state that a write would pass:
// the user's own limit, not the server's, so it unwraps to ErrRateLimited
// (429) and names the quota, its limit and what frees room.
type QuotaError struct {
	Quota string // what is counted, e.g. "Valkey bytes of sessions and idempotency records"
	Limit int64  // in the quota's unit
	Unit  string // e.g. "bytes"
	Frees string // what gives room back, e.g. "ending a session"
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("rate limited: this user's %s quota of %d %s is reached; %s frees room", e.Quota, e.Limit, e.Unit, e.Frees)
}

func (e *QuotaError) Unwrap() error { return ErrRateLimited }
