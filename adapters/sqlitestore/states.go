package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/engram-memory/engram/domain"
)

// SetState implements ports.MemoryStore.
func (s *Store) SetState(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, state domain.State, actor domain.AppID) ([]domain.Memory, error) {
	if err := checkActor(t, actor); err != nil {
		return nil, fmt.Errorf("sqlitestore: set state: %w", err)
	}
	switch state {
	case domain.StateActive, domain.StatePaused, domain.StateArchived:
	default:
		return nil, fmt.Errorf("sqlitestore: set state: %w", domain.Invalid("state", "must be active, paused or archived"))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var out []domain.Memory
	err := s.write(ctx, func(tx *sql.Tx) error {
		ms, err := s.loadMany(ctx, tx, t, ids)
		if err != nil {
			return err
		}
		// Reactivation must not create two active memories with one text,
		// neither against existing rows nor within this call.
		reactivated := map[[3]string]domain.MemoryID{}
		for _, m := range ms {
			if m.State == domain.StateDeleted {
				return fmt.Errorf("%w: memory %s is deleted", domain.ErrNotFound, m.ID)
			}
			if state == domain.StateActive && m.State != domain.StateActive {
				key := [3]string{m.AgentID, m.RunID, m.ContentHash}
				if other, dup := reactivated[key]; dup {
					return fmt.Errorf("%w: memories %s and %s have the same text", domain.ErrConflict, other, m.ID)
				}
				reactivated[key] = m.ID
				if err := refuseDuplicate(ctx, tx, t, m); err != nil {
					return err
				}
			}
		}
		out = make([]domain.Memory, 0, len(ms))
		for _, m := range ms {
			if m.State != state {
				if m, err = s.changeState(ctx, tx, m, state, domain.ChangeState, actor); err != nil {
					return err
				}
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: set state %s of %d memories: %w", state, len(ids), err)
	}
	return out, nil
}

// changeState moves m to state and records kind in its history.
func (s *Store) changeState(ctx context.Context, tx *sql.Tx, m domain.Memory, state domain.State, kind domain.ChangeKind, actor domain.AppID) (domain.Memory, error) {
	old := m.Values()
	m.State, m.UpdatedAt = state, now(m.UpdatedAt)
	if _, err := tx.ExecContext(ctx, `UPDATE memories SET state = ?, updated_at = ? WHERE id = ?`,
		string(state), toNanos(m.UpdatedAt), string(m.ID)); err != nil {
		return domain.Memory{}, mapErr(err)
	}
	nv := m.Values()
	return m, s.insertChange(ctx, tx, m, kind, &old, &nv, actor, m.UpdatedAt)
}

// Delete implements ports.MemoryStore.
func (s *Store) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, actor domain.AppID) error {
	if err := checkActor(t, actor); err != nil {
		return fmt.Errorf("sqlitestore: delete: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		ms, err := s.loadMany(ctx, tx, t, ids)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.State == domain.StateDeleted {
				continue
			}
			if _, err := s.changeState(ctx, tx, m, domain.StateDeleted, domain.ChangeDelete, actor); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete %d memories: %w", len(ids), err)
	}
	return nil
}

// Erase implements ports.MemoryStore. The row stays as a tombstone so its
// history remains addressable; text, metadata, categories and the content
// hash (which identifies short texts) are blanked in the row and every
// history entry, and its access log rows go. secure_delete overwrites the
// freed bytes in the file.
func (s *Store) Erase(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID) error {
	if err := checkActor(t, actor); err != nil {
		return fmt.Errorf("sqlitestore: erase memory %s: %w", id, err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		m, err := s.loadOne(ctx, tx, t, id)
		if err != nil {
			return err
		}
		at := now(m.UpdatedAt)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE memories SET text = '', metadata = '{}', categories = '[]', content_hash = '', state = 'deleted',
				erased = 1, archive_extra = NULL, updated_at = ? WHERE id = ?`, []any{toNanos(at), string(id)}},
			{`UPDATE memory_changes SET old_values = NULL, new_values = NULL, archive_extra = NULL WHERE memory_id = ?`, []any{string(id)}},
			{`DELETE FROM memory_access WHERE memory_id = ?`, []any{string(id)}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return mapErr(err)
			}
		}
		return s.insertChange(ctx, tx, m, domain.ChangeErase, nil, nil, actor, at)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: erase memory %s: %w", id, err)
	}
	return nil
}

// History implements ports.MemoryStore.
func (s *Store) History(ctx context.Context, t domain.Tenant, id domain.MemoryID) ([]domain.MemoryChange, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("sqlitestore: history of %s: %w", id, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, kind, old_values, new_values, actor_app, changed_at
		FROM memory_changes WHERE memory_id = ? AND org_id = ? AND user_id = ?
			AND NOT EXISTS (SELECT 1 FROM memories m WHERE m.id = memory_changes.memory_id AND m.expires_at <> 0 AND m.expires_at <= ?)
		ORDER BY seq`,
		string(id), string(t.OrgID), string(t.UserID), nowNanos())
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: history of %s: %w", id, mapErr(err))
	}
	defer rows.Close()
	var out []domain.MemoryChange
	for rows.Next() {
		var (
			c          domain.MemoryChange
			kind, app  string
			oldV, newV sql.NullString
			at         int64
		)
		if err := rows.Scan(&c.Seq, &kind, &oldV, &newV, &app, &at); err != nil {
			return nil, fmt.Errorf("sqlitestore: history of %s: %w", id, mapErr(err))
		}
		c.MemoryID, c.Kind, c.ActorApp, c.ChangedAt = id, domain.ChangeKind(kind), domain.AppID(app), fromNanos(at)
		if c.Old, err = decodeValues(oldV); err == nil {
			c.New, err = decodeValues(newV)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: history of %s: %w", id, mapErr(err))
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: history of %s: %w", id, mapErr(err))
	}
	rows.Close()
	for _, c := range out {
		for _, v := range []*domain.MemoryValues{c.Old, c.New} {
			if v == nil {
				continue
			}
			if v.Text, err = s.openText(ctx, s.r, t, id, v.Text); err != nil {
				return nil, fmt.Errorf("sqlitestore: history of %s: %w", id, err)
			}
			if err = s.openMetadata(ctx, s.r, t, id, &v.Metadata); err != nil {
				return nil, fmt.Errorf("sqlitestore: history of %s: %w", id, err)
			}
		}
	}
	if len(out) == 0 {
		// Every stored memory has at least its add entry.
		return nil, fmt.Errorf("sqlitestore: history of %s: %w", id, domain.ErrNotFound)
	}
	return out, nil
}
