package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.KeyStore = (*Store)(nil)

const keyCols = `id, org_id, user_id, kind, name, scopes, app_id, key_hash, display, created_by,
	created_at, expires_at, last_used_at, revoked_at`

type keyRow struct {
	ID         string         `db:"id"`
	OrgID      string         `db:"org_id"`
	UserID     string         `db:"user_id"`
	Kind       string         `db:"kind"`
	Name       string         `db:"name"`
	Scopes     pq.StringArray `db:"scopes"`
	AppID      string         `db:"app_id"`
	Hash       string         `db:"key_hash"`
	Display    string         `db:"display"`
	CreatedBy  string         `db:"created_by"`
	CreatedAt  time.Time      `db:"created_at"`
	ExpiresAt  sql.NullTime   `db:"expires_at"`
	LastUsedAt sql.NullTime   `db:"last_used_at"`
	RevokedAt  sql.NullTime   `db:"revoked_at"`
}

func (r keyRow) key() domain.APIKey {
	k := domain.APIKey{
		ID: r.ID, OrgID: domain.OrgID(r.OrgID), UserID: domain.UserID(r.UserID), Kind: domain.KeyKind(r.Kind),
		Name: r.Name, AppID: domain.AppID(r.AppID), Hash: r.Hash, Display: r.Display,
		CreatedBy: domain.UserID(r.CreatedBy), CreatedAt: r.CreatedAt.UTC(),
	}
	for _, s := range r.Scopes {
		k.Scopes = append(k.Scopes, domain.Scope(s))
	}
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = nullTime(r.ExpiresAt), nullTime(r.LastUsedAt), nullTime(r.RevokedAt)
	return k
}

func nullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func timeOrNull(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t.UTC().Truncate(time.Microsecond), Valid: !t.IsZero()}
}

// noRows turns a missing row into the domain's not-found.
func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domain.ErrNotFound
	}
	return err
}

// CreateKey implements ports.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k domain.APIKey) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("pgstore: create key: %w", err)
	}
	scopes := make([]string, len(k.Scopes))
	for i, sc := range k.Scopes {
		scopes[i] = string(sc)
	}
	err := s.inTx(ctx, k.OrgID, false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+keyCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			k.ID, k.OrgID, k.UserID, k.Kind, k.Name, pq.StringArray(scopes), k.AppID, k.Hash, k.Display, k.CreatedBy,
			k.CreatedAt.UTC().Truncate(time.Microsecond), timeOrNull(k.ExpiresAt), timeOrNull(k.LastUsedAt), timeOrNull(k.RevokedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: create key: %w", mapErr(err))
	}
	return nil
}

// LookupKey implements ports.KeyStore. No org is set: the key_lookup
// policy shows the row whose hash the transaction names, and nothing else.
func (s *Store) LookupKey(ctx context.Context, hash string) (domain.APIKey, error) {
	if len(hash) != 64 {
		return domain.APIKey{}, fmt.Errorf("pgstore: lookup key: %w", domain.ErrNotFound)
	}
	var row keyRow
	err := s.inTxWith(ctx, "'', true), set_config('engram.key_hash', "+pq.QuoteLiteral(hash)+", true)", true, func(tx *sqlx.Tx) error {
		return noRows(tx.GetContext(ctx, &row, `SELECT `+keyCols+` FROM api_keys WHERE key_hash = $1`, hash))
	})
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("pgstore: lookup key: %w", mapErr(err))
	}
	return row.key(), nil
}

// ListKeys implements ports.KeyStore.
func (s *Store) ListKeys(ctx context.Context, org domain.OrgID, user domain.UserID) ([]domain.APIKey, error) {
	var rows []keyRow
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		if user == "" {
			return tx.SelectContext(ctx, &rows, `SELECT `+keyCols+` FROM api_keys WHERE org_id = $1 ORDER BY id DESC`, org)
		}
		return tx.SelectContext(ctx, &rows, `SELECT `+keyCols+` FROM api_keys WHERE org_id = $1 AND user_id = $2 ORDER BY id DESC`, org, user)
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: list keys: %w", mapErr(err))
	}
	out := make([]domain.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// GetKey implements ports.KeyStore.
func (s *Store) GetKey(ctx context.Context, org domain.OrgID, id string) (domain.APIKey, error) {
	if !domain.ValidID(id) {
		return domain.APIKey{}, fmt.Errorf("pgstore: get key: %w", domain.ErrNotFound)
	}
	var row keyRow
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		return noRows(tx.GetContext(ctx, &row, `SELECT `+keyCols+` FROM api_keys WHERE org_id = $1 AND id = $2`, org, id))
	})
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("pgstore: get key %s: %w", id, mapErr(err))
	}
	return row.key(), nil
}

// RevokeKey implements ports.KeyStore; COALESCE keeps the first revocation.
func (s *Store) RevokeKey(ctx context.Context, org domain.OrgID, id string, at time.Time) (domain.APIKey, error) {
	if !domain.ValidID(id) {
		return domain.APIKey{}, fmt.Errorf("pgstore: revoke key: %w", domain.ErrNotFound)
	}
	var row keyRow
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		return noRows(tx.GetContext(ctx, &row, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3)
			WHERE org_id = $1 AND id = $2 RETURNING `+keyCols, org, id, at.UTC().Truncate(time.Microsecond)))
	})
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("pgstore: revoke key %s: %w", id, mapErr(err))
	}
	return row.key(), nil
}

// TouchKey implements ports.KeyStore.
func (s *Store) TouchKey(ctx context.Context, org domain.OrgID, id string, at time.Time) error {
	if !domain.ValidID(id) {
		return fmt.Errorf("pgstore: touch key: %w", domain.ErrNotFound)
	}
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, $3), $3)
			WHERE org_id = $1 AND id = $2`, org, id, at.UTC().Truncate(time.Microsecond))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return domain.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: touch key %s: %w", id, mapErr(err))
	}
	return nil
}
