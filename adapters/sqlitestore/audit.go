package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.AuditLog = (*Store)(nil)

// AppendAudit implements ports.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, e domain.AuditEvent) error {
	if err := ports.CheckAuditEvent(e); err != nil {
		return fmt.Errorf("sqlitestore: append audit: %w", err)
	}
	counts, err := json.Marshal(nonNilCounts(e.Counts))
	if err != nil {
		return fmt.Errorf("sqlitestore: append audit: %w", err)
	}
	var erasure any
	if e.ErasureID != "" {
		erasure = string(e.ErasureID)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (id, org_id, at, action, actor_hash, subject_hash, org_wide, erasure_id, counts, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, string(e.ID), string(e.OrgID), toNanos(e.At), e.Action, e.ActorHash, e.SubjectHash,
			e.OrgWide, erasure, string(counts), e.Outcome)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: append audit: %w", err)
	}
	return nil
}

// ListAudit implements ports.AuditLog; the cursor is the last id returned
// (ids are UUIDv7, so id order is time order).
func (s *Store) ListAudit(ctx context.Context, org domain.OrgID, limit int, cursor string) ([]domain.AuditEvent, string, error) {
	if limit < 1 || limit > domain.MaxListLimit {
		return nil, "", fmt.Errorf("sqlitestore: list audit: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	if cursor != "" && !domain.ValidID(cursor) {
		return nil, "", fmt.Errorf("sqlitestore: list audit: %w", domain.Invalid("cursor", "is not a cursor this server issued"))
	}
	q := `SELECT id, at, action, actor_hash, subject_hash, org_wide, COALESCE(erasure_id, ''), counts, outcome
		FROM audit_events WHERE org_id = ?`
	args := []any{string(org)}
	if cursor != "" {
		q += ` AND id < ?`
		args = append(args, cursor)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list audit: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.AuditEvent
	for rows.Next() {
		var (
			e              domain.AuditEvent
			id, erasure, c string
			at             int64
		)
		if err := rows.Scan(&id, &at, &e.Action, &e.ActorHash, &e.SubjectHash, &e.OrgWide, &erasure, &c, &e.Outcome); err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list audit: %w", mapErr(err))
		}
		if err := json.Unmarshal([]byte(c), &e.Counts); err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list audit: %w", err)
		}
		e.ID, e.OrgID, e.At, e.ErasureID = domain.AuditID(id), org, fromNanos(at), domain.ErasureID(erasure)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list audit: %w", mapErr(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = string(out[limit-1].ID)
	}
	return out, next, nil
}

func nonNilCounts(c map[string]int64) map[string]int64 {
	if c == nil {
		return map[string]int64{}
	}
	return c
}
