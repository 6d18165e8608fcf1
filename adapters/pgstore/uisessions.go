package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.UISessionStore = (*Store)(nil)

func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// sealUITokens is the stored form of a session's two tokens.
func (s *Store) sealUITokens(ctx context.Context, t domain.Tenant, idHash, access, refresh string) (string, string, error) {
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return "", "", err
	}
	if access, err = sealField(dk, idHash, "access_token", access); err != nil {
		return "", "", err
	}
	refresh, err = sealField(dk, idHash, "refresh_token", refresh)
	return access, refresh, err
}

// PutUISession implements ports.UISessionStore.
func (s *Store) PutUISession(ctx context.Context, u domain.UISession, max int) error {
	if err := u.Validate(); err != nil {
		return fmt.Errorf("pgstore: put ui session: %w", err)
	}
	access, refresh, err := s.sealUITokens(ctx, u.Tenant(), u.IDHash, u.Access, u.Refresh)
	if err != nil {
		return fmt.Errorf("pgstore: put ui session: %w", err)
	}
	err = s.inTx(ctx, u.OrgID, false, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE org_id = $1 AND user_id = $2 AND expires_at <= $3`,
			u.OrgID, u.UserID, micro(u.CreatedAt)); err != nil {
			return err
		}
		if max > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE id_hash IN (
				SELECT id_hash FROM ui_sessions WHERE org_id = $1 AND user_id = $2
				ORDER BY created_at DESC, id_hash OFFSET $3)`, u.OrgID, u.UserID, max-1); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ui_sessions (id_hash, org_id, user_id, access_token, refresh_token,
			access_expires_at, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			u.IDHash, u.OrgID, u.UserID, access, refresh, micro(u.AccessExpiresAt), micro(u.CreatedAt), micro(u.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: put ui session: %w", mapErr(err))
	}
	return nil
}

// GetUISession implements ports.UISessionStore. No org is known: the
// transaction names the hash (the policy shows that one row), reads the
// row's org, then binds it to open the sealed tokens as that tenant.
func (s *Store) GetUISession(ctx context.Context, idHash string, now time.Time) (domain.UISession, error) {
	if len(idHash) != 64 {
		return domain.UISession{}, fmt.Errorf("pgstore: get ui session: %w", domain.ErrNotFound)
	}
	u := domain.UISession{IDHash: idHash}
	err := s.inTxWith(ctx, "'', true), set_config('engram.token_hash', "+pq.QuoteLiteral(idHash)+", true)", true, func(tx *sqlx.Tx) error {
		if err := noRows(tx.QueryRowContext(ctx, `SELECT org_id, user_id, access_token, refresh_token, access_expires_at, created_at, expires_at
			FROM ui_sessions WHERE id_hash = $1 AND expires_at > $2`, idHash, micro(now)).
			Scan(&u.OrgID, &u.UserID, &u.Access, &u.Refresh, &u.AccessExpiresAt, &u.CreatedAt, &u.ExpiresAt)); err != nil {
			return err
		}
		if !ports.Sealed(u.Access) && !ports.Sealed(u.Refresh) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true), set_config('engram.token_hash', '', true)`, u.OrgID); err != nil {
			return err
		}
		var err error
		if u.Access, err = s.openField(ctx, tx, u.Tenant(), "ui session", idHash, "access_token", u.Access); err != nil {
			return callerError{err}
		}
		if u.Refresh, err = s.openField(ctx, tx, u.Tenant(), "ui session", idHash, "refresh_token", u.Refresh); err != nil {
			return callerError{err}
		}
		return nil
	})
	if err != nil {
		return domain.UISession{}, fmt.Errorf("pgstore: get ui session: %w", mapErr(err))
	}
	u.AccessExpiresAt, u.CreatedAt, u.ExpiresAt = u.AccessExpiresAt.UTC(), u.CreatedAt.UTC(), u.ExpiresAt.UTC()
	return u, nil
}

// ClaimUISessionRefresh implements ports.UISessionStore: one conditional
// UPDATE, so of concurrent claims exactly one sees its row changed.
func (s *Store) ClaimUISessionRefresh(ctx context.Context, t domain.Tenant, idHash string, now, until time.Time) (bool, error) {
	var claimed bool
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM ui_sessions WHERE id_hash = $1 AND org_id = $2 AND user_id = $3)`,
			idHash, t.OrgID, t.UserID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return sql.ErrNoRows
		}
		res, err := tx.ExecContext(ctx, `UPDATE ui_sessions SET refresh_lease = $4
			WHERE id_hash = $1 AND org_id = $2 AND user_id = $3 AND (refresh_lease IS NULL OR refresh_lease <= $5)`,
			idHash, t.OrgID, t.UserID, micro(until), micro(now))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		claimed = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("pgstore: claim ui session refresh: %w", mapErr(noRows(err)))
	}
	return claimed, nil
}

// SaveUISessionTokens implements ports.UISessionStore.
func (s *Store) SaveUISessionTokens(ctx context.Context, t domain.Tenant, idHash, access, refresh string, accessExpiresAt time.Time) error {
	u := domain.UISession{IDHash: idHash, OrgID: t.OrgID, UserID: t.UserID, Access: access, Refresh: refresh,
		CreatedAt: accessExpiresAt, ExpiresAt: accessExpiresAt}
	if err := u.Validate(); err != nil {
		return fmt.Errorf("pgstore: save ui session tokens: %w", err)
	}
	access, refresh, err := s.sealUITokens(ctx, t, idHash, access, refresh)
	if err != nil {
		return fmt.Errorf("pgstore: save ui session tokens: %w", err)
	}
	err = s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ui_sessions SET access_token = $4, refresh_token = $5, access_expires_at = $6, refresh_lease = NULL
			WHERE id_hash = $1 AND org_id = $2 AND user_id = $3`, idHash, t.OrgID, t.UserID, access, refresh, micro(accessExpiresAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: save ui session tokens: %w", mapErr(noRows(err)))
	}
	return nil
}

// DeleteUISession implements ports.UISessionStore.
func (s *Store) DeleteUISession(ctx context.Context, t domain.Tenant, idHash string) error {
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE id_hash = $1 AND org_id = $2 AND user_id = $3`, idHash, t.OrgID, t.UserID)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: delete ui session: %w", mapErr(err))
	}
	return nil
}
