package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.InferenceEvents = (*Store)(nil)

const eventCols = `id, org_id, user_id, app_id, status, request, changes, error, attempts, created_at, updated_at`

func scanEvent(r interface{ Scan(...any) error }) (domain.InferenceEvent, error) {
	var ev domain.InferenceEvent
	var req, changes string
	var created, updated int64
	if err := r.Scan(&ev.ID, &ev.OrgID, &ev.UserID, &ev.App, &ev.Status, &req, &changes, &ev.Error, &ev.Attempts, &created, &updated); err != nil {
		return domain.InferenceEvent{}, err
	}
	if err := json.Unmarshal([]byte(req), &ev.Request); err != nil {
		return domain.InferenceEvent{}, fmt.Errorf("decode event request: %w", err)
	}
	if err := json.Unmarshal([]byte(changes), &ev.Changes); err != nil {
		return domain.InferenceEvent{}, fmt.Errorf("decode event changes: %w", err)
	}
	ev.CreatedAt, ev.UpdatedAt = fromNanos(created), fromNanos(updated)
	return ev, nil
}

// EnqueueInference implements ports.InferenceEvents.
func (s *Store) EnqueueInference(ctx context.Context, t domain.Tenant, ev domain.InferenceEvent) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: enqueue inference: %w", err)
	}
	if ev.Tenant() != t || !domain.ValidID(ev.ID) {
		return fmt.Errorf("sqlitestore: enqueue inference: %w", domain.Invalid("event", "must have a valid id and belong to the caller"))
	}
	req, err := json.Marshal(ev.Request)
	if err != nil {
		return fmt.Errorf("sqlitestore: enqueue inference: %w", err)
	}
	now := nowNanos()
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inference_events (id, org_id, user_id, app_id, status, request, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`, ev.ID, string(t.OrgID), string(t.UserID), string(ev.App), string(req), now, now)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: enqueue inference %s: %w", ev.ID, err)
	}
	return nil
}

// GetInference implements ports.InferenceEvents.
func (s *Store) GetInference(ctx context.Context, t domain.Tenant, id string) (domain.InferenceEvent, error) {
	if err := t.Validate(); err != nil {
		return domain.InferenceEvent{}, fmt.Errorf("sqlitestore: get inference: %w", err)
	}
	ev, err := scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventCols+` FROM inference_events WHERE id = ? AND org_id = ? AND user_id = ?`,
		id, string(t.OrgID), string(t.UserID)))
	if err != nil {
		return domain.InferenceEvent{}, fmt.Errorf("sqlitestore: get inference %s: %w", id, mapErr(err))
	}
	return ev, nil
}

// ClaimInference implements ports.InferenceEvents. SQLite's one writer
// makes the select-and-lease atomic.
func (s *Store) ClaimInference(ctx context.Context, limit int, lease time.Duration) ([]domain.InferenceEvent, error) {
	var out []domain.InferenceEvent
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := nowNanos()
		rows, err := tx.QueryContext(ctx, `UPDATE inference_events SET claimed_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM inference_events WHERE status = 'pending' AND claimed_until <= ? ORDER BY created_at LIMIT ?)
			RETURNING `+eventCols, now+int64(lease), now, limit)
		if err != nil {
			return mapErr(err)
		}
		defer rows.Close()
		for rows.Next() {
			ev, err := scanEvent(rows)
			if err != nil {
				return err
			}
			out = append(out, ev)
		}
		return mapErr(rows.Err())
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: claim inference: %w", err)
	}
	return out, nil
}

// FinishInference implements ports.InferenceEvents.
func (s *Store) FinishInference(ctx context.Context, t domain.Tenant, id string, changes []domain.InferenceChange, failure string) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: finish inference: %w", err)
	}
	status := domain.EventDone
	if failure != "" {
		status, changes = domain.EventFailed, nil
	}
	if changes == nil {
		changes = []domain.InferenceChange{}
	}
	raw, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("sqlitestore: finish inference: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT status FROM inference_events WHERE id = ? AND org_id = ? AND user_id = ?`,
			id, string(t.OrgID), string(t.UserID)).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.ErrNotFound
		}
		if err != nil {
			return mapErr(err)
		}
		if cur != string(domain.EventPending) {
			return fmt.Errorf("%w: event is %s", domain.ErrConflict, cur)
		}
		_, err = tx.ExecContext(ctx, `UPDATE inference_events SET status = ?, changes = ?, error = ?, request = '{"messages":[]}', updated_at = ?
			WHERE id = ?`, string(status), string(raw), failure, nowNanos(), id)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: finish inference %s: %w", id, err)
	}
	return nil
}
