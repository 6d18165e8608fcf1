package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.CommitPositions = (*Store)(nil)

// routedRead runs a lag-tolerant read transaction (read only, scoped to
// org like readTx) on the replica pick chooses, or on the primary. A
// replica that fails under it (gone since the last sample, a query
// cancelled by recovery conflicts) is taken out of rotation and the read
// is run again on the primary: a replica's trouble is never the caller's.
func (s *Store) routedRead(ctx context.Context, org domain.OrgID, fn func(c *sqlx.Conn) error) error {
	if s.replicas == nil {
		return s.readTx(ctx, org, fn)
	}
	r, err := s.replicas.pick(ctx)
	if err != nil {
		return err
	}
	if r == nil {
		return s.readTx(ctx, org, fn)
	}
	err = s.readTxOn(ctx, r.db, org, fn)
	if err != nil && ctx.Err() == nil && replicaFault(err) {
		r.markDown(err)
		return s.readTx(ctx, org, fn)
	}
	return err
}

// routedTx is routedRead for code written against *sqlx.Tx (inTx).
func (s *Store) routedTx(ctx context.Context, org domain.OrgID, fn func(tx *sqlx.Tx) error) error {
	return s.routedTxWith(ctx, pq.QuoteLiteral(string(org))+", true)", func(tx *sqlx.Tx, _ *sqlx.DB) error { return fn(tx) })
}

// routedTxWith is routedTx with the rest of the prologue given (see
// inTxWith); fn learns which pool it runs on (a statement prepared on one
// pool cannot run on another's).
func (s *Store) routedTxWith(ctx context.Context, settings string, fn func(tx *sqlx.Tx, on *sqlx.DB) error) error {
	onPrimary := func(tx *sqlx.Tx) error { return fn(tx, s.db) }
	if s.replicas == nil {
		return s.inTxWith(ctx, settings, true, onPrimary)
	}
	r, err := s.replicas.pick(ctx)
	if err != nil {
		return err
	}
	if r == nil {
		return s.inTxWith(ctx, settings, true, onPrimary)
	}
	err = s.inTxOn(ctx, r.db, settings, true, func(tx *sqlx.Tx) error { return fn(tx, r.db) })
	if err != nil && ctx.Err() == nil && replicaFault(err) {
		r.markDown(err)
		return s.inTxWith(ctx, settings, true, onPrimary)
	}
	return err
}

// replicaFault tells a failure of the replica itself (unreachable, shut
// down, a statement cancelled because recovery needed its rows) from an
// answer (not found, invalid input), which the primary would give too.
func replicaFault(err error) bool {
	var ce callerError
	if errors.As(err, &ce) {
		return false
	}
	for _, k := range []error{domain.ErrNotFound, domain.ErrInvalid, domain.ErrForbidden, domain.ErrTooLarge} {
		if errors.Is(err, k) {
			return false
		}
	}
	return true
}

// CommitPosition implements ports.CommitPositions: the primary's current
// WAL write position, which is at or past the commit record of every
// transaction that committed before the call.
func (s *Store) CommitPosition(ctx context.Context) (domain.Consistency, error) {
	p, err := walPosition(ctx, s.db, `SELECT pg_current_wal_lsn()::text`)
	if err != nil {
		return 0, fmt.Errorf("pgstore: commit position: %w", mapErr(err))
	}
	return domain.Consistency(p), nil
}

// Replicas reports each configured replica's last sample, in
// configuration order; nil without replicas.
func (s *Store) Replicas() []ReplicaStatus {
	if s.replicas == nil {
		return nil
	}
	out := make([]ReplicaStatus, len(s.replicas.reps))
	for i, r := range s.replicas.reps {
		out[i] = r.status(s.replicas.cfg.MaxLag)
	}
	return out
}
