package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// requireInvalidFieldNamed asserts err wraps ErrInvalid through a
// *ValidationError naming field.
func requireInvalidFieldNamed(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, domain.ErrInvalid)
	var ve *domain.ValidationError
	require.True(t, errors.As(err, &ve), "%v is not a *ValidationError", err)
	require.Equal(t, field, ve.Field, "error: %v", err)
}

func TestErrorKindsSurviveWrapping(t *testing.T) {
	inner := errors.New("connection refused")
	for _, c := range []struct {
		err  error
		kind error
	}{
		{domain.Invalid("text", "must not be %s", "empty"), domain.ErrInvalid},
		{&domain.ForbiddenError{MissingScope: domain.ScopeMemoriesWrite}, domain.ErrForbidden},
		{&domain.UnavailableError{Dependency: "postgres", Err: inner}, domain.ErrUnavailable},
		{&domain.UnavailableError{Dependency: "postgres", Err: inner}, inner},
		{&domain.AuthError{Scheme: "DPoP", Code: "invalid_dpop_proof", Description: "replayed"}, domain.ErrUnauthenticated},
	} {
		wrapped := fmt.Errorf("layer two: %w", fmt.Errorf("layer one: %w", c.err))
		require.ErrorIs(t, wrapped, c.kind, "%v", wrapped)
		for _, other := range []error{domain.ErrNotFound, domain.ErrConflict, domain.ErrAlreadyExists} {
			require.NotErrorIs(t, wrapped, other)
		}
	}
	var ve *domain.ValidationError
	require.True(t, errors.As(fmt.Errorf("ctx: %w", domain.Invalid("limit", "between %d and %d", 1, 200)), &ve))
	require.Equal(t, "invalid limit: between 1 and 200", ve.Error())
}

func TestErrorMessages(t *testing.T) {
	require.Equal(t, `forbidden: missing scope "apps:write"`, (&domain.ForbiddenError{MissingScope: domain.ScopeAppsWrite}).Error())
	require.Equal(t, "forbidden: app is paused", (&domain.ForbiddenError{Reason: "app is paused"}).Error())
	require.Equal(t, "valkey unavailable", (&domain.UnavailableError{Dependency: "valkey"}).Error())
	require.Equal(t, "valkey unavailable: boom", (&domain.UnavailableError{Dependency: "valkey", Err: errors.New("boom")}).Error())
	require.Equal(t, "invalid_token: expired", (&domain.AuthError{Scheme: "Bearer", Code: "invalid_token", Description: "expired"}).Error())
}
