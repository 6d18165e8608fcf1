package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.AuditLog = (*Store)(nil)

// AppendAudit implements ports.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, e domain.AuditEvent) error {
	if err := ports.CheckAuditEvent(e); err != nil {
		return fmt.Errorf("pgstore: append audit: %w", err)
	}
	counts := e.Counts
	if counts == nil {
		counts = map[string]int64{}
	}
	raw, err := json.Marshal(counts)
	if err != nil {
		return fmt.Errorf("pgstore: append audit: %w", err)
	}
	var erasure any
	if e.ErasureID != "" {
		erasure = string(e.ErasureID)
	}
	err = s.inTx(ctx, e.OrgID, false, func(tx *sqlx.Tx) error {
		// ON CONFLICT instead of catching the unique violation: the id is
		// the only unique key, so nothing inserted means it exists.
		res, err := tx.ExecContext(ctx, `INSERT INTO audit_events (id, org_id, at, action, actor_hash, subject_hash, org_wide, erasure_id, counts, outcome)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`, e.ID, e.OrgID, e.At.UTC(), e.Action, e.ActorHash, e.SubjectHash,
			e.OrgWide, erasure, string(raw), e.Outcome)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("audit event %s: %w", e.ID, domain.ErrAlreadyExists)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: append audit: %w", mapErr(err))
	}
	return nil
}

// ListAudit implements ports.AuditLog; the cursor is the last id returned
// (ids are UUIDv7, so id order is time order).
func (s *Store) ListAudit(ctx context.Context, org domain.OrgID, limit int, cursor string) ([]domain.AuditEvent, string, error) {
	if limit < 1 || limit > domain.MaxListLimit {
		return nil, "", fmt.Errorf("pgstore: list audit: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	if cursor != "" && !domain.ValidID(cursor) {
		return nil, "", fmt.Errorf("pgstore: list audit: %w", domain.Invalid("cursor", "is not a cursor this server issued"))
	}
	var out []domain.AuditEvent
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		q := `SELECT id, at, action, actor_hash, subject_hash, org_wide, COALESCE(erasure_id::text, ''), counts, outcome
			FROM audit_events WHERE org_id = $1`
		args := []any{org}
		if cursor != "" {
			q += ` AND id < $3`
		}
		args = append(args, limit+1)
		if cursor != "" {
			args = append(args, cursor)
		}
		rows, err := tx.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $2`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e      domain.AuditEvent
				counts []byte
			)
			if err := rows.Scan(&e.ID, &e.At, &e.Action, &e.ActorHash, &e.SubjectHash, &e.OrgWide, &e.ErasureID, &counts, &e.Outcome); err != nil {
				return err
			}
			if err := json.Unmarshal(counts, &e.Counts); err != nil {
				return err
			}
			e.OrgID, e.At = org, e.At.UTC()
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list audit: %w", mapErr(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = string(out[limit-1].ID)
	}
	return out, next, nil
}
