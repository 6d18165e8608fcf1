package mcpserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// toolError turns a use-case failure into the error a tool returns; the SDK
// sends it as a result with isError set, so the model reads the text and can
// correct itself. The text names the kind (and the field or scope) but never
// the backend's wording, which may carry internals.
func (s *Server) toolError(ctx context.Context, tool string, err error) error {
	return fmt.Errorf("%s: %s", tool, s.mapErr(ctx, tool, err))
}

// mapErr is the one place a domain error kind becomes a message for a model.
func (s *Server) mapErr(ctx context.Context, tool string, err error) string {
	var ve *domain.ValidationError
	var fe *domain.ForbiddenError
	var ae *domain.AuthError
	var re *app.RateLimitedError
	var ee *domain.ErasureInProgressError
	switch {
	case errors.As(err, &re):
		return fmt.Sprintf("rate limited: too many %s calls; retry in %d s", re.Class, re.RetryAfterSeconds())
	case errors.As(err, &ve):
		return ve.Error()
	case errors.As(err, &fe):
		if fe.MissingScope != "" {
			return fmt.Sprintf("forbidden: the access token lacks the scope %q this tool requires", fe.MissingScope)
		}
		return fe.Error()
	case errors.As(err, &ae):
		return "unauthenticated: " + ae.Description
	case errors.Is(err, domain.ErrUnauthenticated):
		return "unauthenticated: no verified caller for this session"
	case errors.Is(err, domain.ErrNotFound):
		return "not found: nothing with that id exists for this user"
	case errors.As(err, &ee):
		return fmt.Sprintf("conflict: an erasure of this user is in progress (job %s); writes are refused until it is done", ee.ID)
	case errors.Is(err, domain.ErrConflict):
		return "conflict: the change collides with the memory's state (deleted) or duplicates another active memory"
	case errors.Is(err, domain.ErrAlreadyExists):
		return "already exists"
	case errors.Is(err, domain.ErrInvalid):
		return "invalid request"
	case errors.Is(err, domain.ErrTooLarge):
		return "too large"
	case errors.Is(err, domain.ErrRateLimited):
		return "rate limited: retry later"
	case errors.Is(err, domain.ErrUnavailable):
		// Logged once here, with the dependency and cause, as the HTTP
		// edge logs its 503s.
		dep := "request"
		var ue *domain.UnavailableError
		if errors.As(err, &ue) {
			dep = ue.Dependency
		}
		s.log.WarnContext(ctx, "mcp tool unavailable", "tool", tool, "dependency", dep, "cause", err.Error())
		return "temporarily unavailable: retry later"
	}
	s.log.ErrorContext(ctx, "mcp tool failed", "tool", tool, "err", err)
	return "internal error"
}
