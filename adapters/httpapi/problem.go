package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// problem is an RFC 9457 problem document plus the headers that must go with
// it (WWW-Authenticate, Retry-After).
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []fieldError `json:"errors,omitempty"`

	retryAfter int      // seconds; 0: no Retry-After header
	challenges []string // WWW-Authenticate values
}

type fieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// dpopAlgs is announced in DPoP challenges (RFC 9449 §7.1); it must match
// what the verifier accepts for proofs.
const dpopAlgs = "ES256 EdDSA RS256"

// Retry-After defaults when the error does not say.
const (
	defaultUnavailableRetry = 5
	defaultRateLimitRetry   = 1
)

// problemType makes a problem type URI. They are URNs on purpose: they name
// the kind without promising a page to dereference; docs/openapi.yaml lists
// them.
func problemType(slug string) string { return "urn:engram:problem:" + slug }

// problemFor is the one place an error becomes a status and a document.
// scheme is the Authorization scheme the request used ("" when none), so
// challenges answer in the scheme the client spoke.
func problemFor(err error, scheme string) problem {
	var (
		ve   *domain.ValidationError
		ae   *domain.AuthError
		fe   *domain.ForbiddenError
		ue   *domain.UnavailableError
		ale  *app.AddressLimitedError
		rle  *app.RateLimitedError
		qe   *domain.QuotaError
		te   *domain.TransitionError
		ee   *domain.ErasureInProgressError
		ce   *app.ConflictError
		se   *sizeError
		he   *echo.HTTPError
		arch *archive.Error
		none = errors.Is(err, errNoCredentials)
	)
	switch {
	case none:
		return problem{Type: problemType("unauthenticated"), Title: "Authentication required", Status: http.StatusUnauthorized,
			Detail:     "send an access token: Authorization: Bearer <token>, or DPoP <token> with a DPoP proof",
			challenges: []string{`Bearer realm="engram"`, `DPoP realm="engram", algs="` + dpopAlgs + `"`}}
	case errors.As(err, &ae):
		return problem{Type: problemType("unauthenticated"), Title: "Invalid credentials", Status: authStatus(ae),
			Detail: ae.Description, challenges: []string{authChallenge(ae, scheme)}}
	case errors.Is(err, domain.ErrUnauthenticated):
		return problem{Type: problemType("unauthenticated"), Title: "Invalid credentials", Status: http.StatusUnauthorized,
			Detail: "the access token was refused", challenges: []string{challenge(orBearer(scheme), "invalid_token", "the access token was refused", "")}}
	case errors.As(err, &fe) && fe.MissingScope != "":
		d := "the access token lacks scope " + string(fe.MissingScope)
		return problem{Type: problemType("insufficient-scope"), Title: "Insufficient scope", Status: http.StatusForbidden,
			Detail: d, challenges: []string{challenge(orBearer(scheme), "insufficient_scope", d, string(fe.MissingScope))}}
	case errors.As(err, &fe):
		return problem{Type: problemType("forbidden"), Title: "Forbidden", Status: http.StatusForbidden, Detail: fe.Reason}
	case errors.Is(err, domain.ErrForbidden):
		return problem{Type: problemType("forbidden"), Title: "Forbidden", Status: http.StatusForbidden}
	case errors.As(err, &arch) && errors.Is(err, domain.ErrInvalid):
		// An archive's fault: say where (member and line) and what.
		where := arch.Member
		if arch.Line > 0 {
			where = fmt.Sprintf("%s:%d", arch.Member, arch.Line)
		}
		return problem{Type: problemType("invalid-archive"), Title: "Invalid archive", Status: http.StatusBadRequest,
			Detail: arch.Error(), Errors: []fieldError{{Field: where, Reason: arch.Err.Error()}}}
	case errors.As(err, &ve):
		return problem{Type: problemType("invalid"), Title: "Invalid request", Status: http.StatusBadRequest,
			Detail: ve.Error(), Errors: []fieldError{{Field: ve.Field, Reason: ve.Reason}}}
	case errors.Is(err, domain.ErrInvalid):
		return problem{Type: problemType("invalid"), Title: "Invalid request", Status: http.StatusBadRequest}
	case errors.Is(err, domain.ErrNotFound):
		return problem{Type: problemType("not-found"), Title: "Not found", Status: http.StatusNotFound}
	case errors.Is(err, domain.ErrAlreadyExists):
		return problem{Type: problemType("already-exists"), Title: "Already exists", Status: http.StatusConflict}
	case errors.As(err, &te):
		// The typed conflicts say exactly what was refused ("cannot start
		// an experiment that is completed"); their text names no internals.
		return problem{Type: problemType("conflict"), Title: "Conflict", Status: http.StatusConflict, Detail: te.Error()}
	case errors.As(err, &ce):
		return problem{Type: problemType("conflict"), Title: "Conflict", Status: http.StatusConflict, Detail: ce.Reason}
	case errors.As(err, &ee):
		return problem{Type: problemType("conflict"), Title: "Conflict", Status: http.StatusConflict, Detail: erasingDetail(ee)}
	case errors.Is(err, domain.ErrConflict):
		return problem{Type: problemType("conflict"), Title: "Conflict", Status: http.StatusConflict,
			Detail: "the change conflicts with the memory's current state (a duplicate of another active memory, or a deleted memory)"}
	case errors.As(err, &se):
		return problem{Type: problemType("too-large"), Title: "Request too large", Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the request body exceeds %d bytes", se.limit)}
	case errors.Is(err, domain.ErrTooLarge):
		return problem{Type: problemType("too-large"), Title: "Request too large", Status: http.StatusRequestEntityTooLarge}
	case errors.As(err, &rle):
		return problem{Type: problemType("rate-limited"), Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: fmt.Sprintf("the %s budget of this user is spent; retry after %d s", rle.Class, rle.RetryAfterSeconds()), retryAfter: rle.RetryAfterSeconds()}
	case errors.As(err, &ale):
		return problem{Type: problemType("rate-limited"), Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: fmt.Sprintf("too many failed authentications from this address; retry after %d s", ale.RetryAfterSeconds()), retryAfter: ale.RetryAfterSeconds()}
	case errors.As(err, &qe):
		return problem{Type: problemType("rate-limited"), Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: fmt.Sprintf("this user's %s quota of %d %s is reached; %s frees room", qe.Quota, qe.Limit, qe.Unit, qe.Frees), retryAfter: defaultRateLimitRetry}
	case errors.Is(err, domain.ErrRateLimited):
		// A per-user quota of shared state (idempotency keys, sessions):
		// this user's, not the server's, so 429 and not 503.
		return problem{Type: problemType("rate-limited"), Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: "a per-user limit or quota is reached; retry later", retryAfter: defaultRateLimitRetry}
	case errors.As(err, &ue):
		retry := ue.RetryAfter
		if retry <= 0 {
			retry = defaultUnavailableRetry
		}
		return problem{Type: problemType("unavailable"), Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "a dependency is unavailable; retry later", retryAfter: retry}
	case errors.Is(err, domain.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// A request that ran out of time (or whose client left) failed
		// because something below was slow, not because of a bug.
		return problem{Type: problemType("unavailable"), Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "a dependency is unavailable; retry later", retryAfter: defaultUnavailableRetry}
	case errors.As(err, &he) && he.Code < 500:
		// echo's own refusals: no route (404), wrong method (405).
		return problem{Type: "about:blank", Title: http.StatusText(he.Code), Status: he.Code}
	}
	// Anything else is a bug or an unmapped backend failure; its text may
	// name tables or hosts, so the client gets only the request id.
	return problem{Type: problemType("internal"), Title: "Internal server error", Status: http.StatusInternalServerError,
		Detail: "the server failed; quote the request id when reporting this"}
}

func orBearer(scheme string) string {
	if scheme == jwtauth.SchemeDPoP {
		return jwtauth.SchemeDPoP
	}
	return jwtauth.SchemeBearer
}

// authChallenge answers a refused credential in the scheme the verifier
// named (a proof failure is a DPoP challenge even when the token was sent as
// Bearer), else the one the client used.
// authStatus is RFC 6750 §3.1: invalid_request is a malformed request
// (400), every other refused credential is 401; both carry the challenge.
func authStatus(ae *domain.AuthError) int {
	if ae.Code == "invalid_request" {
		return http.StatusBadRequest
	}
	return http.StatusUnauthorized
}

func authChallenge(ae *domain.AuthError, scheme string) string {
	sch := ae.Scheme
	if sch != jwtauth.SchemeBearer && sch != jwtauth.SchemeDPoP {
		sch = orBearer(scheme)
	}
	code := ae.Code
	if code == "" {
		code = "invalid_token"
	}
	return challenge(sch, code, ae.Description, "")
}

// challenge builds one WWW-Authenticate value (RFC 6750 §3, RFC 9449 §7.1).
func challenge(scheme, code, description, scope string) string {
	var b strings.Builder
	b.WriteString(scheme)
	if scheme == jwtauth.SchemeDPoP {
		b.WriteString(` algs="` + dpopAlgs + `",`)
	}
	b.WriteString(` error="` + code + `"`)
	if description != "" {
		b.WriteString(`, error_description="` + quotable(description) + `"`)
	}
	if scope != "" {
		b.WriteString(`, scope="` + quotable(scope) + `"`)
	}
	return b.String()
}

// quotable keeps a value inside an RFC 6750 quoted string: printable ASCII
// other than '"' and '\'.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return ' '
		}
		return r
	}, s)
}

// writeProblem sends p for the request in c.
func writeProblem(c echo.Context, p problem) error {
	p.Instance = c.Request().URL.Path
	p.RequestID = requestIDOf(c)
	h := c.Response().Header()
	for _, ch := range p.challenges {
		h.Add(echo.HeaderWWWAuthenticate, ch)
	}
	if p.retryAfter > 0 {
		h.Set(echo.HeaderRetryAfter, strconv.Itoa(p.retryAfter))
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return c.Blob(p.Status, "application/problem+json", body)
}

// handleError is echo's error handler: every error a handler or middleware
// returns ends here.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problemFor(err, schemeOf(c))
	if p.Status >= 500 && p.Status != http.StatusServiceUnavailable {
		s.log.ErrorContext(c.Request().Context(), "request failed", "request_id", requestIDOf(c), "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	if werr := writeProblem(c, p); werr != nil {
		s.log.ErrorContext(c.Request().Context(), "write problem", "request_id", requestIDOf(c), "err", werr)
	}
}

// erasingDetail tells a subject why its write is refused while its own
// erasure runs, and where to watch that job.
func erasingDetail(e *domain.ErasureInProgressError) string {
	return fmt.Sprintf("an erasure of this user is in progress (GET /api/v1/erasures/%s); writes are refused until it is done", e.ID)
}
