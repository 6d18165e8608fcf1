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

var _ ports.KeyStore = (*Store)(nil)

const keyCols = `id, org_id, user_id, kind, name, scopes, app_id, key_hash, display, created_by,
	created_at, expires_at, last_used_at, revoked_at`

func scanKey(sc scanner) (domain.APIKey, error) {
	var (
		k                          domain.APIKey
		org, user, kind, app, by   string
		scopes                     string
		created, exp, used, revoke int64
	)
	if err := sc.Scan(&k.ID, &org, &user, &kind, &k.Name, &scopes, &app, &k.Hash, &k.Display, &by,
		&created, &exp, &used, &revoke); err != nil {
		return domain.APIKey{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return domain.APIKey{}, fmt.Errorf("decode scopes of key %s: %w", k.ID, err)
	}
	k.OrgID, k.UserID, k.Kind, k.AppID, k.CreatedBy = domain.OrgID(org), domain.UserID(user), domain.KeyKind(kind), domain.AppID(app), domain.UserID(by)
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromNanos(created), keyTime(exp), keyTime(used), keyTime(revoke)
	return k, nil
}

// keyTime reads a key time column, where 0 means unset.
func keyTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}

func nanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toNanos(t)
}

// CreateKey implements ports.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k domain.APIKey) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: create key: %w", err)
	}
	scopes, err := json.Marshal(k.Scopes)
	if err != nil {
		return fmt.Errorf("sqlitestore: create key: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, string(k.OrgID), string(k.UserID), string(k.Kind), k.Name, string(scopes), string(k.AppID), k.Hash, k.Display,
			string(k.CreatedBy), toNanos(k.CreatedAt), nanosOrZero(k.ExpiresAt), nanosOrZero(k.LastUsedAt), nanosOrZero(k.RevokedAt))
		err = mapErr(err)
		if errors.Is(err, domain.ErrConflict) { // the unique hash index
			err = fmt.Errorf("%w: %w", domain.ErrAlreadyExists, err)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: create key: %w", err)
	}
	return nil
}

// LookupKey implements ports.KeyStore.
func (s *Store) LookupKey(ctx context.Context, hash string) (domain.APIKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE key_hash = ?`, hash))
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("sqlitestore: lookup key: %w", mapErr(err))
	}
	return k, nil
}

// ListKeys implements ports.KeyStore.
func (s *Store) ListKeys(ctx context.Context, org domain.OrgID, user domain.UserID) ([]domain.APIKey, error) {
	q, args := `SELECT `+keyCols+` FROM api_keys WHERE org_id = ? ORDER BY id DESC`, []any{string(org)}
	if user != "" {
		q, args = `SELECT `+keyCols+` FROM api_keys WHERE org_id = ? AND user_id = ? ORDER BY id DESC`, []any{string(org), string(user)}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list keys: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list keys: %w", mapErr(err))
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list keys: %w", mapErr(err))
	}
	return out, nil
}

// GetKey implements ports.KeyStore.
func (s *Store) GetKey(ctx context.Context, org domain.OrgID, id string) (domain.APIKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE org_id = ? AND id = ?`, string(org), id))
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("sqlitestore: get key %s: %w", id, mapErr(err))
	}
	return k, nil
}

// RevokeKey implements ports.KeyStore; only an unset revoked_at is written,
// so the first revocation's time stays.
func (s *Store) RevokeKey(ctx context.Context, org domain.OrgID, id string, at time.Time) (domain.APIKey, error) {
	var k domain.APIKey
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at = 0`,
			toNanos(at), string(org), id); err != nil {
			return mapErr(err)
		}
		var err error
		k, err = scanKey(tx.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE org_id = ? AND id = ?`, string(org), id))
		return mapErr(err)
	})
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("sqlitestore: revoke key %s: %w", id, err)
	}
	return k, nil
}

// TouchKey implements ports.KeyStore.
func (s *Store) TouchKey(ctx context.Context, org domain.OrgID, id string, at time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = max(last_used_at, ?) WHERE org_id = ? AND id = ?`,
			toNanos(at), string(org), id)
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return domain.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: touch key %s: %w", id, err)
	}
	return nil
}
