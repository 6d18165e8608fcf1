package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/engram-memory/engram/domain"
)

// RecordAccess implements ports.AccessLog. One row per (app, memory) holds
// the latest access; an older entry arriving late does not overwrite it.
// Memories that are unknown, erased or another tenant's are skipped by the
// statement's EXISTS guard, without failing the read that logged them.
func (s *Store) RecordAccess(ctx context.Context, t domain.Tenant, entries []domain.Access) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: record access: %w", err)
	}
	for _, e := range entries {
		if err := domain.ValidateAppID(e.AppID); err != nil {
			return fmt.Errorf("sqlitestore: record access: %w", err)
		}
	}
	if len(entries) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt := tx.StmtContext(ctx, s.ws.recordAccess)
		for _, e := range entries {
			if _, err := stmt.ExecContext(ctx, string(t.OrgID), string(t.UserID), string(e.AppID), string(e.MemoryID),
				string(e.Kind), toNanos(e.AccessedAt)); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: record access of %d memories: %w", len(entries), err)
	}
	return nil
}

// ListAccess implements ports.AccessLog, keyset-paged on (accessed_at,
// memory_id) descending so that equal times still page exactly.
func (s *Store) ListAccess(ctx context.Context, t domain.Tenant, app domain.AppID, limit int, cursor string) ([]domain.Access, string, error) {
	if err := checkApp(t, app); err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list access: %w", err)
	}
	if limit < 1 || limit > domain.MaxListLimit {
		return nil, "", fmt.Errorf("sqlitestore: list access: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	const maxNanos = int64(^uint64(0) >> 1)
	afterAt, afterID := maxNanos, ""
	if cursor != "" {
		var err error
		if afterAt, afterID, err = decodeAccessCursor(cursor); err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list access: %w", err)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT a.memory_id, a.kind, a.accessed_at FROM memory_access a
		JOIN memories m ON m.id = a.memory_id AND m.erased = 0
		WHERE a.org_id = ? AND a.user_id = ? AND a.app_id = ?
			AND (a.accessed_at < ? OR (a.accessed_at = ? AND a.memory_id < ?))
		ORDER BY a.accessed_at DESC, a.memory_id DESC LIMIT ?`,
		string(t.OrgID), string(t.UserID), string(app), afterAt, afterAt, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list access: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.Access
	for rows.Next() {
		var id, kind string
		var at int64
		if err := rows.Scan(&id, &kind, &at); err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list access: %w", mapErr(err))
		}
		out = append(out, domain.Access{MemoryID: domain.MemoryID(id), AppID: app, Kind: domain.AccessKind(kind), AccessedAt: fromNanos(at)})
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list access: %w", mapErr(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeAccessCursor(toNanos(last.AccessedAt), string(last.MemoryID))
	}
	return out, next, nil
}

// MemoryAccess implements ports.AccessLog through memory_access_by_memory
// (migration 0302).
func (s *Store) MemoryAccess(ctx context.Context, t domain.Tenant, id domain.MemoryID, limit int) ([]domain.Access, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("sqlitestore: memory access: %w", err)
	}
	if limit < 1 || limit > domain.MaxListLimit {
		return nil, fmt.Errorf("sqlitestore: memory access: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT a.app_id, a.kind, a.accessed_at FROM memory_access a
		JOIN memories m ON m.id = a.memory_id AND m.org_id = a.org_id AND m.user_id = a.user_id AND m.erased = 0
		WHERE a.org_id = ? AND a.user_id = ? AND a.memory_id = ?
		ORDER BY a.accessed_at DESC, a.app_id LIMIT ?`, string(t.OrgID), string(t.UserID), string(id), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: memory access: %w", mapErr(err))
	}
	defer rows.Close()
	out := []domain.Access{}
	for rows.Next() {
		var app, kind string
		var at int64
		if err := rows.Scan(&app, &kind, &at); err != nil {
			return nil, fmt.Errorf("sqlitestore: memory access: %w", mapErr(err))
		}
		out = append(out, domain.Access{MemoryID: id, AppID: domain.AppID(app), Kind: domain.AccessKind(kind), AccessedAt: fromNanos(at)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: memory access: %w", mapErr(err))
	}
	return out, nil
}

func encodeAccessCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "|" + id))
}

func decodeAccessCursor(c string) (int64, string, error) {
	bad := domain.Invalid("cursor", "is not a cursor this server issued")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	at, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || !domain.ValidID(id) {
		return 0, "", bad
	}
	return n, id, nil
}
