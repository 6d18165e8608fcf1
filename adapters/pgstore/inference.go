package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.InferenceWriter = (*Store)(nil)

// ApplyInference implements ports.InferenceWriter: every op in one
// transaction, under the org's row-level security.
func (s *Store) ApplyInference(ctx context.Context, t domain.Tenant, actor domain.AppID, ops []domain.InferenceOp) ([]domain.InferenceChange, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("pgstore: apply inference: %w", err)
	}
	if err := domain.ValidateAppID(actor); err != nil {
		return nil, fmt.Errorf("pgstore: apply inference: %w", err)
	}
	for i := range ops {
		op := &ops[i]
		switch op.Action {
		case domain.InferAdd, domain.InferSupersede:
			if err := s.prepare(t, &op.Memory); err != nil {
				return nil, fmt.Errorf("pgstore: apply inference: op %d: %w", i, err)
			}
		case domain.InferUpdate, domain.InferNone:
		default:
			return nil, fmt.Errorf("pgstore: apply inference: %w", domain.Invalid("event", "unknown action %q", op.Action))
		}
	}
	// The key is made (and committed) before the transaction, as Create
	// and Update do.
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("pgstore: apply inference: %w", mapErr(err))
	}
	var out []domain.InferenceChange
	err = s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		out = make([]domain.InferenceChange, 0, len(ops))
		for i, op := range ops {
			c, err := s.applyOp(ctx, tx, dk, t, actor, op)
			if err != nil {
				return fmt.Errorf("op %d (%s): %w", i, op.Action, err)
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: apply inference: %w", mapErr(err))
	}
	return out, nil
}

func (s *Store) applyOp(ctx context.Context, tx *sqlx.Tx, dk *ports.DataKey, t domain.Tenant, actor domain.AppID, op domain.InferenceOp) (domain.InferenceChange, error) {
	switch op.Action {
	case domain.InferNone:
		return domain.InferenceChange{Action: domain.InferNone, MemoryID: op.Target}, nil
	case domain.InferAdd:
		return s.insertInferred(ctx, tx, dk, t, op.Memory)
	}
	if !domain.ValidID(string(op.Target)) {
		return domain.InferenceChange{}, fmt.Errorf("memory %q: %w", op.Target, domain.ErrNotFound)
	}
	var row memoryRow
	if err := tx.GetContext(ctx, &row, lockMemorySQL, t.OrgID, t.UserID, op.Target); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return domain.InferenceChange{}, fmt.Errorf("memory %s: %w", op.Target, domain.ErrNotFound)
		}
		return domain.InferenceChange{}, err
	}
	stored, err := row.memory()
	if err != nil {
		return domain.InferenceChange{}, err
	}
	if stored.State == domain.StateDeleted {
		return domain.InferenceChange{}, fmt.Errorf("memory %s is deleted: %w", stored.ID, domain.ErrNotFound)
	}
	if op.Action == domain.InferUpdate {
		return s.updateInferred(ctx, tx, dk, t, actor, stored, op.Text)
	}
	// Supersede: retire the old memory first, so a successor with the
	// same text is no duplicate of it.
	now := s.now()
	var after memoryRow
	if err := tx.GetContext(ctx, &after, setStateSQL, t.OrgID, t.UserID, pq.StringArray{string(stored.ID)}, domain.StateDeleted, now); err != nil {
		return domain.InferenceChange{}, err
	}
	retired, err := after.memory()
	if err != nil {
		return domain.InferenceChange{}, err
	}
	if err := s.recordChange(ctx, tx, t, stored.ID, domain.ChangeDelete, &stored, &retired, actor, now); err != nil {
		return domain.InferenceChange{}, err
	}
	c, err := s.insertInferred(ctx, tx, dk, t, op.Memory)
	if err != nil {
		return domain.InferenceChange{}, err
	}
	// The old fact held until its successor was said (issue 18): its
	// validity closes there, unless it already closed earlier or would
	// close before it opened.
	if _, err := tx.ExecContext(ctx, `UPDATE memories SET valid_to = $4
		WHERE org_id = $1 AND user_id = $2 AND id = $3 AND (valid_to IS NULL OR valid_to > $4) AND (valid_from IS NULL OR valid_from < $4)`,
		t.OrgID, t.UserID, stored.ID, observedArg(op.Memory)); err != nil {
		return domain.InferenceChange{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO memory_supersessions (memory_id, org_id, user_id, successor_id, superseded_at)
		VALUES ($1, $2, $3, $4, $5)`, stored.ID, t.OrgID, t.UserID, c.MemoryID, now); err != nil {
		return domain.InferenceChange{}, err
	}
	return domain.InferenceChange{Action: domain.InferSupersede, MemoryID: c.MemoryID, Previous: stored.ID, Text: c.Text}, nil
}

// insertInferred inserts m unless an active memory of t has its text,
// which is then reported as the change (action none).
func (s *Store) insertInferred(ctx context.Context, tx *sqlx.Tx, dk *ports.DataKey, t domain.Tenant, m domain.Memory) (domain.InferenceChange, error) {
	text, md, cats, err := sealContent(dk, m)
	if err != nil {
		return domain.InferenceChange{}, err
	}
	m.ContentHash = contentHash(dk, m.Text)
	var row memoryRow
	err = tx.GetContext(ctx, &row, insertMemorySQL, m.ID, m.OrgID, m.UserID, m.AppID, text,
		md, cats, m.State, m.ContentHash, m.CreatedAt, m.UpdatedAt, m.AgentID, m.RunID, expiryArg(m.ExpiresAt),
		observedArg(m), expiryArg(m.ValidFrom), expiryArg(m.ValidTo))
	if err == nil {
		return domain.InferenceChange{Action: domain.InferAdd, MemoryID: m.ID, Text: m.Text}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return domain.InferenceChange{}, err
	}
	if err := tx.GetContext(ctx, &row, activeByHashSQL, m.OrgID, m.UserID, m.AgentID, m.RunID, m.ContentHash); err != nil {
		return domain.InferenceChange{}, err
	}
	return domain.InferenceChange{Action: domain.InferNone, MemoryID: domain.MemoryID(row.ID)}, nil
}

// updateInferred rewrites the text of stored (as read, possibly sealed)
// with an update history entry, as Update does.
func (s *Store) updateInferred(ctx context.Context, tx *sqlx.Tx, dk *ports.DataKey, t domain.Tenant, actor domain.AppID, stored domain.Memory, text string) (domain.InferenceChange, error) {
	old := stored
	if err := s.openMemory(ctx, tx, &old); err != nil {
		return domain.InferenceChange{}, err
	}
	next, err := cloneMemory(old)
	if err != nil {
		return domain.InferenceChange{}, err
	}
	next.Text = text
	if err := next.Normalize(); err != nil {
		return domain.InferenceChange{}, err
	}
	next.ContentHash = contentHash(dk, next.Text)
	if next.Text == old.Text {
		return domain.InferenceChange{Action: domain.InferNone, MemoryID: old.ID}, nil
	}
	// The metadata is rewritten with the text: both sealed with one key.
	sealed, md, cats, err := sealContent(dk, next)
	if err != nil {
		return domain.InferenceChange{}, err
	}
	now := s.now()
	var row memoryRow
	if err := tx.GetContext(ctx, &row, updateMemorySQL, t.OrgID, t.UserID, old.ID, sealed, md, cats, next.ContentHash, now, expiryArg(next.ExpiresAt),
		observedArg(next), expiryArg(next.ValidFrom), expiryArg(next.ValidTo)); err != nil {
		return domain.InferenceChange{}, err
	}
	out, err := row.memory()
	if err != nil {
		return domain.InferenceChange{}, err
	}
	if err := s.recordChange(ctx, tx, t, old.ID, domain.ChangeUpdate, &stored, &out, actor, now); err != nil {
		return domain.InferenceChange{}, err
	}
	return domain.InferenceChange{Action: domain.InferUpdate, MemoryID: old.ID, Text: next.Text}, nil
}

// Successor implements ports.InferenceWriter.
func (s *Store) Successor(ctx context.Context, t domain.Tenant, id domain.MemoryID) (domain.MemoryID, error) {
	if err := t.Validate(); err != nil {
		return "", fmt.Errorf("pgstore: successor: %w", err)
	}
	if !domain.ValidID(string(id)) {
		return "", nil
	}
	var succ string
	err := s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &succ, `SELECT successor_id::text FROM memory_supersessions WHERE memory_id = $1 AND org_id = $2 AND user_id = $3`,
			id, t.OrgID, t.UserID)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pgstore: successor of %s: %w", id, mapErr(err))
	}
	return domain.MemoryID(succ), nil
}
