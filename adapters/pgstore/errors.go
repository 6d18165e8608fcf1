package pgstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/engram-memory/engram/domain"
)

// Constraint names from migrations/postgres that callers need told apart.
const (
	constraintMemoryPK   = "memories_pkey"
	constraintActiveHash = "memories_active_hash_idx"
	constraintKeyPK      = "api_keys_pkey"
	constraintKeyHash    = "api_keys_hash_idx"
	constraintClientPK   = "oauth_clients_pkey"
	constraintTokenPK    = "oauth_tokens_pkey"
	constraintUISession  = "ui_sessions_pkey"
)

// callerError carries an error returned by a caller's closure (Update's fn)
// through inTx untouched: the contract returns it as is.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
func (e callerError) Unwrap() error { return e.err }

var domainKinds = []error{
	domain.ErrNotFound, domain.ErrAlreadyExists, domain.ErrConflict, domain.ErrInvalid,
	domain.ErrUnauthenticated, domain.ErrForbidden, domain.ErrUnavailable, domain.ErrTooLarge,
	domain.ErrRateLimited,
}

// mapErr is the one place backend failures become domain error kinds.
// Errors that already are a domain kind, and a caller's own errors, pass
// through unchanged.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var ce callerError
	if errors.As(err, &ce) {
		return ce.err
	}
	for _, k := range domainKinds {
		if errors.Is(err, k) {
			return err
		}
	}
	unavailable := func() error { return &domain.UnavailableError{Dependency: "postgres", Err: err} }
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) {
		return unavailable()
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return unavailable()
	}
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) && isClientShapeRefusal(err) {
		return fmt.Errorf("%w: the request is too large for one statement: %w", domain.ErrInvalid, err)
	}
	if !errors.As(err, &pqErr) {
		// Broken pipes, closed pools and the like: the backend, not the input.
		return unavailable()
	}
	switch code := pqErr.Code; {
	case code == pqerror.UniqueViolation && (pqErr.Constraint == constraintMemoryPK ||
		pqErr.Constraint == constraintKeyPK || pqErr.Constraint == constraintKeyHash ||
		pqErr.Constraint == constraintClientPK || pqErr.Constraint == constraintTokenPK ||
		pqErr.Constraint == constraintUISession):
		return fmt.Errorf("%w: %w", domain.ErrAlreadyExists, err)
	case code == pqerror.UniqueViolation, code == pqerror.ExclusionViolation,
		code == pqerror.TRSerializationFailure, code == pqerror.TRDeadlockDetected:
		return fmt.Errorf("%w: %w", domain.ErrConflict, err)
	case code == pqerror.ForeignKeyViolation, code == pqerror.CheckViolation,
		code == pqerror.NotNullViolation, code.Class() == pqerror.ClassDataException:
		return fmt.Errorf("%w: %w", domain.ErrInvalid, err)
	case code == pqerror.InsufficientPrivilege:
		// Includes "new row violates row-level security policy": a write for
		// an org the transaction is not scoped to.
		return fmt.Errorf("%w: %w", domain.ErrForbidden, err)
	case code.Class() == pqerror.ClassSyntaxErrorOrAccessRuleViolation, code.Class() == pqerror.ClassProgramLimitExceeded:
		// The server refused the statement for its shape (too complex,
		// too many columns or arguments, a name it cannot resolve): the
		// same request fails the same way on a healthy server, so it is
		// the caller's input and must not count against a breaker.
		return fmt.Errorf("%w: the request is too large or complex for one statement: %w", domain.ErrInvalid, err)
	default:
		// Timeouts (57014), connection loss (08xxx), shutdown (57P0x),
		// resource exhaustion (53xxx) and anything else from the server.
		return unavailable()
	}
}

// isClientShapeRefusal recognises lib/pq refusing a statement before it is
// sent (more than 65535 parameters or columns). lib/pq returns these as
// plain errors, so their text is all there is to match.
func isClientShapeRefusal(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "parameters but PostgreSQL only supports") || strings.Contains(msg, "pq: too many columns")
}
