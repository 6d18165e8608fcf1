package pgstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestMapErr(t *testing.T) {
	pqErr := func(code, constraint string) error {
		return &pq.Error{Code: pqerror.Code(code), Constraint: constraint, Message: "server said no"}
	}
	sentinel := errors.New("caller's own")
	for i, c := range []struct {
		in   error
		want error
	}{
		{pqErr("23505", constraintMemoryPK), domain.ErrAlreadyExists},
		{pqErr("23505", constraintActiveHash), domain.ErrConflict},
		{pqErr("40001", ""), domain.ErrConflict},
		{pqErr("40P01", ""), domain.ErrConflict},
		{pqErr("22P02", ""), domain.ErrInvalid},
		{pqErr("23514", ""), domain.ErrInvalid},
		{pqErr("42501", ""), domain.ErrForbidden},
		// Refused for the statement's shape: the caller's input, never an
		// outage a breaker would count.
		{pqErr("42601", ""), domain.ErrInvalid}, // syntax error
		{pqErr("42P18", ""), domain.ErrInvalid}, // indeterminate datatype
		{pqErr("54001", ""), domain.ErrInvalid}, // statement too complex
		{pqErr("54023", ""), domain.ErrInvalid}, // too many arguments
		{pqErr("22001", ""), domain.ErrInvalid}, // string data right truncation
		{errors.New("pq: got 70000 parameters but PostgreSQL only supports 65535 parameters"), domain.ErrInvalid},
		{pqErr("57014", ""), domain.ErrUnavailable}, // statement timeout
		{pqErr("08006", ""), domain.ErrUnavailable},
		{pqErr("57P01", ""), domain.ErrUnavailable}, // admin shutdown
		{pqErr("53300", ""), domain.ErrUnavailable}, // too many connections
		{context.Canceled, domain.ErrUnavailable},
		{context.DeadlineExceeded, domain.ErrUnavailable},
		{driver.ErrBadConn, domain.ErrUnavailable},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, domain.ErrUnavailable},
		{fmt.Errorf("wrapped: %w", domain.ErrNotFound), domain.ErrNotFound},
		{callerError{sentinel}, sentinel},
	} {
		got := mapErr(c.in)
		require.ErrorIs(t, got, c.want, "case %d: %v", i, c.in)
		if !errors.Is(c.want, domain.ErrUnavailable) {
			require.NotErrorIs(t, got, domain.ErrUnavailable, "case %d", i)
		}
	}
	require.NoError(t, mapErr(nil))
	require.Equal(t, sentinel, mapErr(callerError{sentinel}), "a caller's error comes back as is")
	var pe *pq.Error
	require.ErrorAs(t, mapErr(pqErr("23505", constraintActiveHash)), &pe, "the backend error stays inspectable")
}
