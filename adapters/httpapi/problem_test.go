package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

func TestProblemFor(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("sqlitestore: get memory x: %w", err) }
	cases := []struct {
		name       string
		err        error
		scheme     string
		status     int
		typ        string
		retryAfter int
		challenge  string // substring of the first WWW-Authenticate value; "" means none
		field      string
	}{
		{"not found", wrap(domain.ErrNotFound), "", 404, "not-found", 0, "", ""},
		{"validation error names the field", wrap(domain.Invalid("text", "must not be empty")), "", 400, "invalid", 0, "", "text"},
		{"bare invalid", wrap(domain.ErrInvalid), "", 400, "invalid", 0, "", ""},
		{"conflict", wrap(domain.ErrConflict), "", 409, "conflict", 0, "", ""},
		{"already exists", wrap(domain.ErrAlreadyExists), "", 409, "already-exists", 0, "", ""},
		{"no credentials", errNoCredentials, "", 401, "unauthenticated", 0, `Bearer realm="engram"`, ""},
		{"bare unauthenticated", wrap(domain.ErrUnauthenticated), jwtauth.SchemeBearer, 401, "unauthenticated", 0, `Bearer error="invalid_token"`, ""},
		{"bearer token refused", &domain.AuthError{Scheme: jwtauth.SchemeBearer, Code: "invalid_token", Description: "token expired"}, jwtauth.SchemeBearer, 401, "unauthenticated", 0,
			`Bearer error="invalid_token", error_description="token expired"`, ""},
		{"dpop proof refused", &domain.AuthError{Scheme: jwtauth.SchemeDPoP, Code: "invalid_dpop_proof", Description: "proof replayed"}, jwtauth.SchemeDPoP, 401, "unauthenticated", 0,
			`DPoP algs="ES256 EdDSA RS256", error="invalid_dpop_proof", error_description="proof replayed"`, ""},
		{"auth error without scheme uses the request's", &domain.AuthError{Code: "invalid_token", Description: "x"}, jwtauth.SchemeDPoP, 401, "unauthenticated", 0, `DPoP algs=`, ""},
		{"missing scope", &domain.ForbiddenError{MissingScope: domain.ScopeMemoriesWrite}, jwtauth.SchemeBearer, 403, "insufficient-scope", 0,
			`Bearer error="insufficient_scope", error_description="the access token lacks scope memories:write", scope="memories:write"`, ""},
		{"paused app", &domain.ForbiddenError{Reason: `app "x" is paused`}, jwtauth.SchemeBearer, 403, "forbidden", 0, "", ""},
		{"bare forbidden", wrap(domain.ErrForbidden), "", 403, "forbidden", 0, "", ""},
		{"unavailable with retry", &domain.UnavailableError{Dependency: "postgres", RetryAfter: 7, Err: errors.New("dial tcp 10.0.0.3:5432: refused")}, "", 503, "unavailable", 7, "", ""},
		{"bare unavailable", wrap(domain.ErrUnavailable), "", 503, "unavailable", defaultUnavailableRetry, "", ""},
		{"request deadline", fmt.Errorf("pgstore: list: %w", context.DeadlineExceeded), "", 503, "unavailable", defaultUnavailableRetry, "", ""},
		{"too large", tooLarge(1 << 20), "", 413, "too-large", 0, "", ""},
		{"rate limited with retry", &app.RateLimitedError{Class: app.ClassSearch, RetryAfter: 2100 * time.Millisecond}, "", 429, "rate-limited", 3, "", ""},
		{"bare rate limited", wrap(domain.ErrRateLimited), "", 429, "rate-limited", defaultRateLimitRetry, "", ""},
		{"quota names itself", wrap(&domain.QuotaError{Quota: "Valkey", Limit: 1024, Unit: "bytes", Frees: "waiting"}), "", 429, "rate-limited", defaultRateLimitRetry, "", ""},
		{"unknown error", errors.New("pq: relation memories does not exist"), "", 500, "internal", 0, "", ""},
		{"echo 404", echo.ErrNotFound, "", 404, "", 0, "", ""},
		{"echo 405", echo.ErrMethodNotAllowed, "", 405, "", 0, "", ""},
		{"echo 500 is not passed through", echo.NewHTTPError(500, "boom"), "", 500, "internal", 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := problemFor(tc.err, tc.scheme)
			require.Equal(t, tc.status, p.Status)
			if tc.typ == "" {
				require.Equal(t, "about:blank", p.Type)
			} else {
				require.Equal(t, "urn:engram:problem:"+tc.typ, p.Type)
			}
			require.NotEmpty(t, p.Title)
			require.Equal(t, tc.retryAfter, p.retryAfter)
			var qe *domain.QuotaError
			if errors.As(tc.err, &qe) {
				require.Equal(t, "this user's Valkey quota of 1024 bytes is reached; waiting frees room", p.Detail)
			}
			if tc.challenge == "" {
				require.Empty(t, p.challenges)
			} else {
				require.NotEmpty(t, p.challenges)
				require.Contains(t, p.challenges[0], tc.challenge)
			}
			if tc.field != "" {
				require.Len(t, p.Errors, 1)
				require.Equal(t, tc.field, p.Errors[0].Field)
			} else {
				require.Empty(t, p.Errors)
			}
			// Internals of unmapped and unavailable errors never reach the client.
			require.NotContains(t, p.Detail, "pq:")
			require.NotContains(t, p.Detail, "10.0.0.3")
		})
	}
}

// TestConflictDetail: a typed conflict's own reason is the detail; only a
// bare conflict (a store's duplicate or state race) gets the generic text.
func TestConflictDetail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		detail string
	}{
		{"transition", fmt.Errorf("update experiment: %w", &domain.TransitionError{Action: domain.ActionStart, From: domain.ExperimentCompleted}),
			"cannot start an experiment that is completed"},
		{"app conflict", fmt.Errorf("act: %w", &app.ConflictError{Reason: "another experiment of this org is running; pause or complete it first"}),
			"another experiment of this org is running; pause or complete it first"},
		{"bare conflict", fmt.Errorf("pgstore: update memory x: %w", domain.ErrConflict),
			"the change conflicts with the memory's current state (a duplicate of another active memory, or a deleted memory)"},
	} {
		p := problemFor(tc.err, "")
		require.Equal(t, http.StatusConflict, p.Status, tc.name)
		require.Equal(t, "urn:engram:problem:conflict", p.Type, tc.name)
		require.Equal(t, tc.detail, p.Detail, tc.name)
	}
}

func TestNoCredentialsChallengeHasNoErrorCode(t *testing.T) {
	// RFC 6750 §3.1: a request without credentials gets a bare challenge.
	p := problemFor(errNoCredentials, "")
	require.Len(t, p.challenges, 2)
	for _, ch := range p.challenges {
		require.NotContains(t, ch, "error=")
	}
	require.True(t, strings.HasPrefix(p.challenges[1], "DPoP "))
	require.Contains(t, p.challenges[1], `algs="ES256 EdDSA RS256"`)
}

func TestChallengeQuotingCannotBreakOut(t *testing.T) {
	ch := challenge(jwtauth.SchemeBearer, "invalid_token", "bad \"kid\"\r\nSet-Cookie: x", "")
	require.NotContains(t, ch, "\r")
	require.NotContains(t, ch, "\n")
	require.Equal(t, 4, strings.Count(ch, `"`), ch)
}

func TestWriteProblemDocument(t *testing.T) {
	e := echo.New()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/memories/x?limit=3", nil)
	rec := httptest.NewRecorder()
	c := e.NewContext(req, rec)
	c.Set(ctxRequestID, "req-1")
	p := problemFor(&domain.UnavailableError{Dependency: "valkey", RetryAfter: 9}, "")
	require.NoError(t, writeProblem(c, p))

	require.Equal(t, 503, rec.Code)
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	require.Equal(t, "9", rec.Header().Get("Retry-After"))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	require.Equal(t, "urn:engram:problem:unavailable", doc["type"])
	require.Equal(t, float64(503), doc["status"])
	require.Equal(t, "/api/v1/memories/x", doc["instance"])
	require.Equal(t, "req-1", doc["request_id"])
	require.NotEmpty(t, doc["title"])
}

// A write refused because the subject's own erasure runs says so and names
// the job, rather than the generic "duplicate or deleted memory" conflict.
func TestErasureInProgressProblemNamesTheJob(t *testing.T) {
	err := fmt.Errorf("app: add memory: %w", &domain.ErasureInProgressError{ID: "job-1"})
	p := problemFor(err, "")
	require.Equal(t, http.StatusConflict, p.Status)
	require.Contains(t, p.Detail, "erasure of this user is in progress")
	require.Contains(t, p.Detail, "/api/v1/erasures/job-1")
}
