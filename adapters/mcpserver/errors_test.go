package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// TestMapErrTable is the one table from error kind to what a model reads.
// Backend wording (adapter names, SQL) must never reach the message.
func TestMapErrTable(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	wrap := func(err error) error { return fmt.Errorf("sqlitestore: select from memories: %w", err) }
	cases := []struct {
		err  error
		want string
	}{
		{wrap(domain.Invalid("text", "must not be empty")), "invalid text: must not be empty"},
		{wrap(&domain.ForbiddenError{MissingScope: domain.ScopeMemoriesWrite}), `lacks the scope "memories:write"`},
		{wrap(&domain.ForbiddenError{Reason: `app "cursor" is paused`}), `forbidden: app "cursor" is paused`},
		{&domain.AuthError{Code: "invalid_token", Description: "expired"}, "unauthenticated: expired"},
		{domain.ErrUnauthenticated, "unauthenticated"},
		{wrap(domain.ErrNotFound), "not found"},
		{wrap(domain.ErrConflict), "conflict"},
		{wrap(domain.ErrAlreadyExists), "already exists"},
		{wrap(domain.ErrInvalid), "invalid request"},
		{wrap(domain.ErrTooLarge), "too large"},
		{&app.RateLimitedError{Class: app.ClassSearch, RetryAfter: 1500 * time.Millisecond}, "rate limited: too many search calls; retry in 2 s"},
		{wrap(domain.ErrRateLimited), "rate limited"},
		{wrap(&domain.UnavailableError{Dependency: "postgres", Err: errors.New("dial tcp 10.0.0.5:5432: refused")}), "temporarily unavailable"},
		{errors.New("pq: relation \"memories\" does not exist"), "internal error"},
	}
	for _, c := range cases {
		got := s.mapErr(context.Background(), "tool", c.err)
		require.Contains(t, got, c.want, c.err.Error())
		require.NotContains(t, got, "sqlitestore", c.err.Error())
		require.NotContains(t, got, "10.0.0.5", c.err.Error())
		require.NotContains(t, got, "relation", c.err.Error())
	}
}
