package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.InferenceWriter = (*Store)(nil)

// ApplyInference implements ports.InferenceWriter: every op in one write
// transaction.
func (s *Store) ApplyInference(ctx context.Context, t domain.Tenant, actor domain.AppID, ops []domain.InferenceOp) ([]domain.InferenceChange, error) {
	if err := checkActor(t, actor); err != nil {
		return nil, fmt.Errorf("sqlitestore: apply inference: %w", err)
	}
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: apply inference: %w", err)
	}
	rows := make([]memRow, len(ops))
	for i := range ops {
		op := &ops[i]
		switch op.Action {
		case domain.InferAdd, domain.InferSupersede:
			if err := checkOwned(t, &op.Memory); err != nil {
				return nil, fmt.Errorf("sqlitestore: apply inference: op %d: %w", i, err)
			}
			if rows[i], err = encodeRow(dk, op.Memory, now(time.Time{})); err != nil {
				return nil, fmt.Errorf("sqlitestore: apply inference: %w", err)
			}
		case domain.InferUpdate, domain.InferNone:
		default:
			return nil, fmt.Errorf("sqlitestore: apply inference: %w", domain.Invalid("event", "unknown action %q", op.Action))
		}
	}
	var out []domain.InferenceChange
	err = s.write(ctx, func(tx *sql.Tx) error {
		out = make([]domain.InferenceChange, 0, len(ops))
		for i, op := range ops {
			c, err := s.applyOp(ctx, tx, dk, t, actor, op, rows[i])
			if err != nil {
				return fmt.Errorf("op %d (%s): %w", i, op.Action, err)
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: apply inference: %w", err)
	}
	return out, nil
}

func (s *Store) applyOp(ctx context.Context, tx *sql.Tx, dk *ports.DataKey, t domain.Tenant, actor domain.AppID, op domain.InferenceOp, r memRow) (domain.InferenceChange, error) {
	switch op.Action {
	case domain.InferNone:
		return domain.InferenceChange{Action: domain.InferNone, MemoryID: op.Target}, nil
	case domain.InferAdd:
		return s.insertInferred(ctx, tx, t, r)
	}
	old, err := s.loadOne(ctx, tx, t, op.Target)
	if err != nil {
		return domain.InferenceChange{}, err
	}
	if old.State == domain.StateDeleted {
		return domain.InferenceChange{}, fmt.Errorf("%w: memory %s is deleted", domain.ErrNotFound, old.ID)
	}
	if op.Action == domain.InferUpdate {
		return s.updateInferred(ctx, tx, dk, t, actor, old, op.Text)
	}
	// Supersede: retire the old memory first, so a successor with the
	// same text is no duplicate of it.
	if _, err := s.changeState(ctx, tx, old, domain.StateDeleted, domain.ChangeDelete, actor); err != nil {
		return domain.InferenceChange{}, err
	}
	c, err := s.insertInferred(ctx, tx, t, r)
	if err != nil {
		return domain.InferenceChange{}, err
	}
	// The old fact held until its successor was said (issue 18): its
	// validity closes there, unless it already closed earlier or would
	// close before it opened.
	if _, err := tx.ExecContext(ctx, `UPDATE memories SET valid_to = ?4
		WHERE id = ?1 AND org_id = ?2 AND user_id = ?3 AND (valid_to = 0 OR valid_to > ?4) AND (valid_from = 0 OR valid_from < ?4)`,
		string(old.ID), string(t.OrgID), string(t.UserID), observedNanos(r.m)); err != nil {
		return domain.InferenceChange{}, mapErr(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO memory_supersessions (memory_id, org_id, user_id, successor_id, superseded_at)
		VALUES (?, ?, ?, ?, ?)`, string(old.ID), string(t.OrgID), string(t.UserID), string(c.MemoryID), toNanos(now(time.Time{}))); err != nil {
		return domain.InferenceChange{}, mapErr(err)
	}
	return domain.InferenceChange{Action: domain.InferSupersede, MemoryID: c.MemoryID, Previous: old.ID, Text: c.Text}, nil
}

// insertInferred inserts r's memory unless an active memory of t has its
// text, which is then reported as the change (action none).
func (s *Store) insertInferred(ctx context.Context, tx *sql.Tx, t domain.Tenant, r memRow) (domain.InferenceChange, error) {
	m := r.m
	existing, err := scanMemory(tx.StmtContext(ctx, s.ws.activeByHash).QueryRowContext(ctx, string(t.OrgID), string(t.UserID), m.AgentID, m.RunID, m.ContentHash))
	switch {
	case err == nil && !existing.Expired(time.Now()):
		return domain.InferenceChange{Action: domain.InferNone, MemoryID: existing.ID}, nil
	case err == nil:
		if err := eraseRows(ctx, tx, existing.ID); err != nil {
			return domain.InferenceChange{}, err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return domain.InferenceChange{}, mapErr(err)
	}
	w := s.newBatchWriter(ctx, tx)
	defer w.close()
	if _, err := w.insert([]memRow{r}); err != nil {
		return domain.InferenceChange{}, err
	}
	return domain.InferenceChange{Action: domain.InferAdd, MemoryID: m.ID, Text: m.Text}, nil
}

// updateInferred rewrites old's text with an update history entry, as
// Update does.
func (s *Store) updateInferred(ctx context.Context, tx *sql.Tx, dk *ports.DataKey, t domain.Tenant, actor domain.AppID, old domain.Memory, text string) (domain.InferenceChange, error) {
	m, err := cloneMemory(old)
	if err != nil {
		return domain.InferenceChange{}, err
	}
	m.Text = text
	if err := m.Normalize(); err != nil {
		return domain.InferenceChange{}, err
	}
	m.ContentHash = contentHash(dk, m.Text)
	if m.Text == old.Text {
		return domain.InferenceChange{Action: domain.InferNone, MemoryID: old.ID}, nil
	}
	if err := refuseDuplicate(ctx, tx, t, m); err != nil {
		return domain.InferenceChange{}, err
	}
	m.UpdatedAt = now(old.UpdatedAt)
	// The metadata is rewritten with the text: both sealed with one key.
	sm, err := sealMemory(dk, m)
	if err != nil {
		return domain.InferenceChange{}, err
	}
	a, err := memoryArgs(sm)
	if err != nil {
		return domain.InferenceChange{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE memories SET text = ?, metadata = ?, content_hash = ?, updated_at = ? WHERE id = ?`,
		a[4], a[5], m.ContentHash, toNanos(m.UpdatedAt), string(m.ID)); err != nil {
		return domain.InferenceChange{}, mapErr(err)
	}
	ov, nv := old.Values(), m.Values()
	if err := s.insertChange(ctx, tx, m, domain.ChangeUpdate, &ov, &nv, actor, m.UpdatedAt); err != nil {
		return domain.InferenceChange{}, err
	}
	return domain.InferenceChange{Action: domain.InferUpdate, MemoryID: m.ID, Text: m.Text}, nil
}

// Successor implements ports.InferenceWriter.
func (s *Store) Successor(ctx context.Context, t domain.Tenant, id domain.MemoryID) (domain.MemoryID, error) {
	if err := t.Validate(); err != nil {
		return "", fmt.Errorf("sqlitestore: successor: %w", err)
	}
	var succ string
	err := s.r.QueryRowContext(ctx, `SELECT successor_id FROM memory_supersessions WHERE memory_id = ? AND org_id = ? AND user_id = ?`,
		string(id), string(t.OrgID), string(t.UserID)).Scan(&succ)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlitestore: successor of %s: %w", id, mapErr(err))
	}
	return domain.MemoryID(succ), nil
}
