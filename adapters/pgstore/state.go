package pgstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
)

// lockManySQL locks the listed live memories in id order, so two bulk calls
// over overlapping sets queue instead of deadlocking.
const lockManySQL = `SELECT ` + memoryCols + ` FROM memories
	WHERE org_id = $1 AND user_id = $2 AND id = ANY($3::uuid[]) AND erased_at IS NULL AND ` + liveSQL + `
	ORDER BY id FOR UPDATE`

const setStateSQL = `UPDATE memories SET state = $4, updated_at = $5
	WHERE org_id = $1 AND user_id = $2 AND id = ANY($3::uuid[])
	RETURNING ` + memoryCols

// insertChangesSQL writes one history entry per element of the arrays.
const insertChangesSQL = `INSERT INTO memory_changes (org_id, user_id, memory_id, kind, old_values, new_values, actor_app, changed_at)
	SELECT $1, $2, u.id, $3, u.old, u.new, $4, $5
	FROM unnest($6::uuid[], $7::jsonb[], $8::jsonb[]) WITH ORDINALITY AS u(id, old, new, ord) ORDER BY u.ord`

// SetState moves the listed memories to state, all or nothing.
func (s *Store) SetState(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, state domain.State, actor domain.AppID) ([]domain.Memory, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("pgstore: set state: %w", err)
	}
	if state != domain.StateActive && state != domain.StatePaused && state != domain.StateArchived {
		return nil, fmt.Errorf("pgstore: set state: %w", domain.Invalid("state", "must be active, paused or archived"))
	}
	var out []domain.Memory
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		byID, err := s.lockMany(ctx, tx, t, ids, true)
		if err != nil {
			return err
		}
		var changed pq.StringArray
		for id, m := range byID {
			if m.State != state {
				changed = append(changed, string(id))
			}
		}
		if len(changed) > 0 && state == domain.StateActive {
			if err := eraseExpired(ctx, tx, t); err != nil {
				return err
			}
		}
		if len(changed) > 0 {
			now := s.now()
			var rows []memoryRow
			if err := tx.SelectContext(ctx, &rows, setStateSQL, t.OrgID, t.UserID, changed, state, now); err != nil {
				return err
			}
			after, err := memories(rows)
			if err != nil {
				return err
			}
			if err := s.recordMany(ctx, tx, t, domain.ChangeState, byID, after, actor, now); err != nil {
				return err
			}
			for _, m := range after {
				byID[m.ID] = m
			}
		}
		seen := make(map[domain.MemoryID]bool, len(ids))
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, byID[id])
			}
		}
		return s.openMemories(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: set state of %d memories to %s: %w", len(ids), state, mapErr(err))
	}
	return out, nil
}

// Delete soft-deletes the listed memories, all or nothing.
func (s *Store) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, actor domain.AppID) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("pgstore: delete: %w", err)
	}
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		byID, err := s.lockMany(ctx, tx, t, ids, false)
		if err != nil {
			return err
		}
		var changed pq.StringArray
		for id, m := range byID {
			if m.State != domain.StateDeleted {
				changed = append(changed, string(id))
			}
		}
		if len(changed) == 0 {
			return nil
		}
		now := s.now()
		var rows []memoryRow
		if err := tx.SelectContext(ctx, &rows, setStateSQL, t.OrgID, t.UserID, changed, domain.StateDeleted, now); err != nil {
			return err
		}
		after, err := memories(rows)
		if err != nil {
			return err
		}
		return s.recordMany(ctx, tx, t, domain.ChangeDelete, byID, after, actor, now)
	})
	if err != nil {
		return fmt.Errorf("pgstore: delete %d memories: %w", len(ids), mapErr(err))
	}
	return nil
}

// lockMany locks every listed memory and fails with domain.ErrNotFound when
// one is missing (or, with liveOnly, deleted).
func (s *Store) lockMany(ctx context.Context, tx *sqlx.Tx, t domain.Tenant, ids []domain.MemoryID, liveOnly bool) (map[domain.MemoryID]domain.Memory, error) {
	arr, distinct := uuidArray(ids)
	if distinct == 0 {
		return nil, domain.Invalid("ids", "must name at least one memory")
	}
	var rows []memoryRow
	if err := tx.SelectContext(ctx, &rows, lockManySQL, t.OrgID, t.UserID, arr); err != nil {
		return nil, err
	}
	byID := make(map[domain.MemoryID]domain.Memory, len(rows))
	for _, r := range rows {
		m, err := r.memory()
		if err != nil {
			return nil, err
		}
		if liveOnly && m.State == domain.StateDeleted {
			continue
		}
		byID[m.ID] = m
	}
	if len(byID) != distinct {
		return nil, fmt.Errorf("%d of %d memories: %w", distinct-len(byID), distinct, domain.ErrNotFound)
	}
	return byID, nil
}

// recordMany writes one history entry per memory in after, with its state
// before from before.
func (s *Store) recordMany(ctx context.Context, tx *sqlx.Tx, t domain.Tenant, kind domain.ChangeKind, before map[domain.MemoryID]domain.Memory, after []domain.Memory, actor domain.AppID, at any) error {
	ids := make(pq.StringArray, len(after))
	olds := make(pq.StringArray, len(after))
	news := make(pq.StringArray, len(after))
	for i, m := range after {
		ov, nv := valuesOf(before[m.ID]), valuesOf(m)
		o, err := jsonText(ov)
		if err != nil {
			return err
		}
		n, err := jsonText(nv)
		if err != nil {
			return err
		}
		ids[i], olds[i], news[i] = string(m.ID), o, n
	}
	_, err := tx.ExecContext(ctx, insertChangesSQL, t.OrgID, t.UserID, kind, actor, at, ids, olds, news)
	return err
}
