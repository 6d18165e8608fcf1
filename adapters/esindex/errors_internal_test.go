package esindex

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// Refusals of the request's shape are the caller's input; only the rest
// is the cluster being unavailable (and counts against its breaker).
func TestMapErrKinds(t *testing.T) {
	for i, c := range []struct {
		in   error
		want error
	}{
		{&httpStatusError{code: http.StatusBadRequest, body: `{"error":{"type":"too_many_clauses"}}`}, domain.ErrInvalid},
		{&httpStatusError{code: http.StatusRequestEntityTooLarge}, domain.ErrTooLarge},
		{&httpStatusError{code: http.StatusServiceUnavailable}, domain.ErrUnavailable},
		{&httpStatusError{code: http.StatusTooManyRequests}, domain.ErrUnavailable},
		{errors.New("dial tcp: connection refused"), domain.ErrUnavailable},
		{context.Canceled, context.Canceled},
	} {
		got := mapErr(c.in)
		require.ErrorIs(t, got, c.want, "case %d", i)
		if !errors.Is(c.want, domain.ErrUnavailable) {
			require.NotErrorIs(t, got, domain.ErrUnavailable, "case %d", i)
		}
	}
}
