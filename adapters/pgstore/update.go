package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
)

const lockMemorySQL = `SELECT ` + memoryCols + ` FROM memories
	WHERE org_id = $1 AND user_id = $2 AND id = $3 AND erased_at IS NULL AND ` + liveSQL + ` FOR UPDATE`

const updateMemorySQL = `UPDATE memories
	SET text = $4, metadata = $5::jsonb, categories = $6::text[], content_hash = $7, updated_at = $8, expires_at = $9,
		observed_at = $10, valid_from = $11, valid_to = $12
	WHERE org_id = $1 AND user_id = $2 AND id = $3
	RETURNING ` + memoryCols

const insertChangeSQL = `INSERT INTO memory_changes (org_id, user_id, memory_id, kind, old_values, new_values, actor_app, changed_at)
	VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)`

// Update applies fn to the memory under a row lock and records the change.
func (s *Store) Update(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID, fn func(*domain.Memory) error) (domain.Memory, error) {
	if err := t.Validate(); err != nil {
		return domain.Memory{}, fmt.Errorf("pgstore: update memory %s: %w", id, err)
	}
	if !domain.ValidID(string(id)) {
		return domain.Memory{}, fmt.Errorf("pgstore: update memory %s: %w", id, domain.ErrNotFound)
	}
	// The key is made (and committed) before the row lock, so the update
	// below finds it.
	if _, err := s.sealingKey(ctx, t); err != nil {
		return domain.Memory{}, fmt.Errorf("pgstore: update memory %s: %w", id, mapErr(err))
	}
	var out domain.Memory
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		var row memoryRow
		if err := tx.GetContext(ctx, &row, lockMemorySQL, t.OrgID, t.UserID, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return domain.ErrNotFound
			}
			return err
		}
		oldStored, err := row.memory()
		if err != nil {
			return err
		}
		old := oldStored
		if err := s.openMemory(ctx, tx, &old); err != nil {
			return err
		}
		if old.State == domain.StateDeleted {
			return fmt.Errorf("memory is deleted: %w", domain.ErrConflict)
		}
		next, err := cloneMemory(old)
		if err != nil {
			return err
		}
		if err := fn(&next); err != nil {
			return callerError{err}
		}
		// Only content and expiry are fn's to change.
		next.ID, next.OrgID, next.UserID, next.AppID = old.ID, old.OrgID, old.UserID, old.AppID
		next.AgentID, next.RunID = old.AgentID, old.RunID
		next.State, next.CreatedAt, next.UpdatedAt = old.State, old.CreatedAt, old.UpdatedAt
		if err := next.Normalize(); err != nil {
			return err
		}
		dk, err := s.findKey(ctx, tx, t)
		if err != nil {
			return err
		}
		if !s.keys.encrypt {
			dk = nil
		}
		next.ContentHash = contentHash(dk, next.Text)
		if next.Text == old.Text && reflect.DeepEqual(next.Metadata, old.Metadata) && slices.Equal(next.Categories, old.Categories) && next.ExpiresAt.Equal(old.ExpiresAt) && domain.SameTimes(next, old) {
			out = old
			return nil
		}
		if next.ContentHash != old.ContentHash {
			if err := eraseExpired(ctx, tx, t); err != nil {
				return err
			}
		}
		// The unique index only polices active rows; a paused or archived
		// memory must not take an active one's text either.
		if old.State != domain.StateActive && next.ContentHash != old.ContentHash {
			var taken bool
			if err := tx.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM memories
				WHERE org_id = $1 AND user_id = $2 AND agent_id = $5 AND run_id = $6 AND content_hash = $3 AND state = 'active' AND id <> $4)`,
				t.OrgID, t.UserID, next.ContentHash, id, next.AgentID, next.RunID); err != nil {
				return err
			}
			if taken {
				return fmt.Errorf("an active memory has this text: %w", domain.ErrConflict)
			}
		}
		text, md, cats, err := sealContent(dk, next)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.GetContext(ctx, &row, updateMemorySQL, t.OrgID, t.UserID, id, text, md, cats, next.ContentHash, now, expiryArg(next.ExpiresAt),
			observedArg(next), expiryArg(next.ValidFrom), expiryArg(next.ValidTo)); err != nil {
			return err
		}
		if out, err = row.memory(); err != nil {
			return err
		}
		// History keeps the values as stored (sealed ones stay sealed).
		if err := s.recordChange(ctx, tx, t, id, domain.ChangeUpdate, &oldStored, &out, actor, now); err != nil {
			return err
		}
		return s.openMemory(ctx, tx, &out)
	})
	if ce := (callerError{}); errors.As(err, &ce) {
		return domain.Memory{}, ce.err // the contract: fn's error as is, unwrapped
	}
	if err != nil {
		return domain.Memory{}, fmt.Errorf("pgstore: update memory %s: %w", id, mapErr(err))
	}
	return out, nil
}

func (s *Store) recordChange(ctx context.Context, tx *sqlx.Tx, t domain.Tenant, id domain.MemoryID, kind domain.ChangeKind, old, cur *domain.Memory, actor domain.AppID, at any) error {
	var ov, nv *historyValues
	if old != nil {
		v := valuesOf(*old)
		ov = &v
	}
	if cur != nil {
		v := valuesOf(*cur)
		nv = &v
	}
	oj, err := jsonOrNull(ov)
	if err != nil {
		return err
	}
	nj, err := jsonOrNull(nv)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, insertChangeSQL, t.OrgID, t.UserID, id, kind, oj, nj, actor, at)
	return err
}

// cloneMemory deep-copies m so that fn cannot reach the loaded original
// through shared maps or slices.
func cloneMemory(m domain.Memory) (domain.Memory, error) {
	c := m
	c.Categories = slices.Clone(m.Categories)
	raw, err := json.Marshal(m.Metadata)
	if err != nil {
		return domain.Memory{}, err
	}
	c.Metadata = domain.Metadata{}
	if err := json.Unmarshal(raw, &c.Metadata); err != nil {
		return domain.Memory{}, err
	}
	return c, nil
}
