package pgstore

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
)

// recordAccessSQL upserts one row per (app, memory), keeping the latest
// access. The join drops memories that are not the tenant's or are erased.
const recordAccessSQL = `
INSERT INTO memory_access (org_id, user_id, app_id, memory_id, kind, accessed_at)
SELECT $1, $2, u.app_id, m.id, u.kind, u.at
FROM unnest($3::uuid[], $4::text[], $5::text[], $6::timestamptz[]) AS u(memory_id, app_id, kind, at)
JOIN memories m ON m.id = u.memory_id AND m.org_id = $1 AND m.user_id = $2 AND m.erased_at IS NULL
ORDER BY u.app_id, u.memory_id
ON CONFLICT (org_id, user_id, app_id, memory_id) DO UPDATE
	SET kind = EXCLUDED.kind, accessed_at = EXCLUDED.accessed_at
	WHERE memory_access.accessed_at <= EXCLUDED.accessed_at`

// RecordAccess logs reads; unknown memories are skipped.
func (s *Store) RecordAccess(ctx context.Context, t domain.Tenant, entries []domain.Access) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("pgstore: record access: %w", err)
	}
	// ON CONFLICT DO UPDATE may touch a row once per statement: keep the
	// latest entry per (app, memory). Sorting the rows fixes the lock order,
	// so concurrent recorders cannot deadlock.
	type key struct {
		app domain.AppID
		id  domain.MemoryID
	}
	latest := make(map[key]domain.Access, len(entries))
	for _, e := range entries {
		if !domain.ValidID(string(e.MemoryID)) {
			continue
		}
		if err := domain.ValidateAppID(e.AppID); err != nil {
			return fmt.Errorf("pgstore: record access: %w", err)
		}
		k := key{e.AppID, e.MemoryID}
		if old, ok := latest[k]; !ok || !e.AccessedAt.Before(old.AccessedAt) {
			latest[k] = e
		}
	}
	if len(latest) == 0 {
		return nil
	}
	var ids, apps, kinds, ats pq.StringArray
	for _, e := range latest {
		ids = append(ids, string(e.MemoryID))
		apps = append(apps, string(e.AppID))
		kinds = append(kinds, string(e.Kind))
		at := e.AccessedAt
		if at.IsZero() {
			at = s.now()
		}
		ats = append(ats, at.UTC().Format(time.RFC3339Nano))
	}
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, recordAccessSQL, t.OrgID, t.UserID, ids, apps, kinds, ats)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: record access of %d memories: %w", len(latest), mapErr(err))
	}
	return nil
}

// ListAccess pages an app's reads, most recent first, keyset on
// (accessed_at, memory_id).
func (s *Store) ListAccess(ctx context.Context, t domain.Tenant, app domain.AppID, limit int, cursor string) ([]domain.Access, string, error) {
	if err := t.Validate(); err != nil {
		return nil, "", fmt.Errorf("pgstore: list access: %w", err)
	}
	if limit <= 0 || limit > domain.MaxListLimit {
		return nil, "", fmt.Errorf("pgstore: list access: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	q := `SELECT a.memory_id::text, a.app_id, a.kind, a.accessed_at FROM memory_access a
		JOIN memories m ON m.id = a.memory_id AND m.erased_at IS NULL
		WHERE a.org_id = $1 AND a.user_id = $2 AND a.app_id = $3`
	args := []any{t.OrgID, t.UserID, app}
	if cursor != "" {
		at, id, err := decodeAccessCursor(cursor)
		if err != nil {
			return nil, "", fmt.Errorf("pgstore: list access: %w", err)
		}
		q += ` AND (a.accessed_at, a.memory_id) < ($4::timestamptz, $5::uuid)`
		args = append(args, at, id)
	}
	q += ` ORDER BY a.accessed_at DESC, a.memory_id DESC LIMIT ` + strconv.Itoa(limit+1)
	out := []domain.Access{}
	next := ""
	err := s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a domain.Access
			if err := rows.Scan(&a.MemoryID, &a.AppID, &a.Kind, &a.AccessedAt); err != nil {
				return err
			}
			a.AccessedAt = a.AccessedAt.UTC()
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list access of app %s: %w", app, mapErr(err))
	}
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeAccessCursor(last.AccessedAt, last.MemoryID)
	}
	return out, next, nil
}

// MemoryAccess implements ports.AccessLog through
// memory_access_by_memory_idx (migration 0302).
func (s *Store) MemoryAccess(ctx context.Context, t domain.Tenant, id domain.MemoryID, limit int) ([]domain.Access, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("pgstore: memory access: %w", err)
	}
	if limit <= 0 || limit > domain.MaxListLimit {
		return nil, fmt.Errorf("pgstore: memory access: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	out := []domain.Access{}
	if !domain.ValidID(string(id)) {
		return out, nil
	}
	err := s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT a.app_id, a.kind, a.accessed_at FROM memory_access a
			JOIN memories m ON m.id = a.memory_id AND m.org_id = a.org_id AND m.user_id = a.user_id AND m.erased_at IS NULL
			WHERE a.org_id = $1 AND a.user_id = $2 AND a.memory_id = $3
			ORDER BY a.accessed_at DESC, a.app_id LIMIT $4`, t.OrgID, t.UserID, string(id), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a := domain.Access{MemoryID: id}
			if err := rows.Scan(&a.AppID, &a.Kind, &a.AccessedAt); err != nil {
				return err
			}
			a.AccessedAt = a.AccessedAt.UTC()
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: memory access: %w", mapErr(err))
	}
	return out, nil
}

func encodeAccessCursor(at time.Time, id domain.MemoryID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "/" + string(id)))
}

func decodeAccessCursor(c string) (string, string, error) {
	bad := domain.Invalid("cursor", "is not a cursor this server issued")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", bad
	}
	ts, id, ok := strings.Cut(string(raw), "/")
	micros, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || !domain.ValidID(id) {
		return "", "", bad
	}
	return time.UnixMicro(micros).UTC().Format(time.RFC3339Nano), id, nil
}
