package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.InferenceEvents = (*Store)(nil)

const eventCols = `id::text AS id, org_id, user_id, app_id, status, request::text AS request, changes::text AS changes, error, attempts, created_at, updated_at`

type eventRow struct {
	ID        string    `db:"id"`
	OrgID     string    `db:"org_id"`
	UserID    string    `db:"user_id"`
	AppID     string    `db:"app_id"`
	Status    string    `db:"status"`
	Request   string    `db:"request"`
	Changes   string    `db:"changes"`
	Error     string    `db:"error"`
	Attempts  int       `db:"attempts"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

func (r eventRow) event() (domain.InferenceEvent, error) {
	ev := domain.InferenceEvent{ID: r.ID, OrgID: domain.OrgID(r.OrgID), UserID: domain.UserID(r.UserID), App: domain.AppID(r.AppID),
		Status: domain.EventStatus(r.Status), Error: r.Error, Attempts: r.Attempts, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Request), &ev.Request); err != nil {
		return domain.InferenceEvent{}, fmt.Errorf("decode event request: %w", err)
	}
	if err := json.Unmarshal([]byte(r.Changes), &ev.Changes); err != nil {
		return domain.InferenceEvent{}, fmt.Errorf("decode event changes: %w", err)
	}
	return ev, nil
}

// EnqueueInference implements ports.InferenceEvents.
func (s *Store) EnqueueInference(ctx context.Context, t domain.Tenant, ev domain.InferenceEvent) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("pgstore: enqueue inference: %w", err)
	}
	if ev.Tenant() != t || !domain.ValidID(ev.ID) {
		return fmt.Errorf("pgstore: enqueue inference: %w", domain.Invalid("event", "must have a valid id and belong to the caller"))
	}
	req, err := json.Marshal(ev.Request)
	if err != nil {
		return fmt.Errorf("pgstore: enqueue inference: %w", err)
	}
	err = s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		now := s.now()
		_, err := tx.ExecContext(ctx, `INSERT INTO inference_events (id, org_id, user_id, app_id, status, request, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'pending', $5::jsonb, $6, $6)`, ev.ID, t.OrgID, t.UserID, ev.App, string(req), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: enqueue inference %s: %w", ev.ID, mapErr(err))
	}
	return nil
}

// GetInference implements ports.InferenceEvents.
func (s *Store) GetInference(ctx context.Context, t domain.Tenant, id string) (domain.InferenceEvent, error) {
	if err := t.Validate(); err != nil {
		return domain.InferenceEvent{}, fmt.Errorf("pgstore: get inference: %w", err)
	}
	if !domain.ValidID(id) {
		return domain.InferenceEvent{}, fmt.Errorf("pgstore: get inference %s: %w", id, domain.ErrNotFound)
	}
	var row eventRow
	err := s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &row, `SELECT `+eventCols+` FROM inference_events WHERE id = $1 AND org_id = $2 AND user_id = $3`, id, t.OrgID, t.UserID)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return domain.InferenceEvent{}, fmt.Errorf("pgstore: get inference %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return domain.InferenceEvent{}, fmt.Errorf("pgstore: get inference %s: %w", id, mapErr(err))
	}
	return row.event()
}

// ClaimInference implements ports.InferenceEvents: the orgs with due
// events come from a SECURITY DEFINER function (ids only), and each org's
// events are leased inside its row-level security, FOR UPDATE SKIP LOCKED.
func (s *Store) ClaimInference(ctx context.Context, limit int, lease time.Duration) ([]domain.InferenceEvent, error) {
	var orgs []string
	err := s.inTx(ctx, "", true, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &orgs, `SELECT * FROM engram_inference_due_orgs($1)`, dueOrgsPerClaim)
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim inference: %w", mapErr(err))
	}
	var out []domain.InferenceEvent
	for _, org := range orgs {
		if len(out) >= limit {
			break
		}
		var rows []eventRow
		err := s.inTx(ctx, domain.OrgID(org), false, func(tx *sqlx.Tx) error {
			return tx.SelectContext(ctx, &rows, `UPDATE inference_events SET claimed_until = clock_timestamp() + make_interval(secs => $2), attempts = attempts + 1
				WHERE id = ANY(ARRAY(SELECT id FROM inference_events WHERE org_id = $1 AND status = 'pending' AND claimed_until <= now()
					ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED))
				RETURNING `+eventCols, org, lease.Seconds(), limit-len(out))
		})
		if err != nil {
			return nil, fmt.Errorf("pgstore: claim inference: %w", mapErr(err))
		}
		for _, r := range rows {
			ev, err := r.event()
			if err != nil {
				return nil, fmt.Errorf("pgstore: claim inference: %w", err)
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// FinishInference implements ports.InferenceEvents.
func (s *Store) FinishInference(ctx context.Context, t domain.Tenant, id string, changes []domain.InferenceChange, failure string) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("pgstore: finish inference: %w", err)
	}
	if !domain.ValidID(id) {
		return fmt.Errorf("pgstore: finish inference %s: %w", id, domain.ErrNotFound)
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
		return fmt.Errorf("pgstore: finish inference: %w", err)
	}
	err = s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		var cur string
		err := tx.GetContext(ctx, &cur, `SELECT status FROM inference_events WHERE id = $1 AND org_id = $2 AND user_id = $3 FOR UPDATE`, id, t.OrgID, t.UserID)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.ErrNotFound
		}
		if err != nil {
			return err
		}
		if cur != string(domain.EventPending) {
			return fmt.Errorf("%w: event is %s", domain.ErrConflict, cur)
		}
		_, err = tx.ExecContext(ctx, `UPDATE inference_events SET status = $2, changes = $3::jsonb, error = $4, request = '{"messages":[]}', updated_at = $5
			WHERE id = $1`, id, status, string(raw), failure, s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: finish inference %s: %w", id, mapErr(err))
	}
	return nil
}
