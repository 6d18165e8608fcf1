package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.UISessionStore = (*Store)(nil)

// PutUISession implements ports.UISessionStore.
func (s *Store) PutUISession(ctx context.Context, u domain.UISession, max int) error {
	if err := u.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: put ui session: %w", err)
	}
	dk, err := s.sealingKey(ctx, u.Tenant())
	if err != nil {
		return fmt.Errorf("sqlitestore: put ui session: %w", err)
	}
	access, err := sealField(dk, u.IDHash, "access_token", u.Access)
	if err != nil {
		return fmt.Errorf("sqlitestore: put ui session: %w", err)
	}
	refresh, err := sealField(dk, u.IDHash, "refresh_token", u.Refresh)
	if err != nil {
		return fmt.Errorf("sqlitestore: put ui session: %w", err)
	}
	org, user := string(u.OrgID), string(u.UserID)
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE org_id = ? AND user_id = ? AND expires_at <= ?`,
			org, user, toNanos(u.CreatedAt)); err != nil {
			return mapErr(err)
		}
		if max > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE id_hash IN (
				SELECT id_hash FROM ui_sessions WHERE org_id = ? AND user_id = ?
				ORDER BY created_at DESC, id_hash LIMIT -1 OFFSET ?)`, org, user, max-1); err != nil {
				return mapErr(err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ui_sessions (id_hash, org_id, user_id, access_token, refresh_token,
			access_expires_at, refresh_lease, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
			u.IDHash, org, user, access, refresh, toNanos(u.AccessExpiresAt), toNanos(u.CreatedAt), toNanos(u.ExpiresAt))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: put ui session: %w", err)
	}
	return nil
}

// GetUISession implements ports.UISessionStore.
func (s *Store) GetUISession(ctx context.Context, idHash string, now time.Time) (domain.UISession, error) {
	u := domain.UISession{IDHash: idHash}
	var (
		org, user               string
		accessExp, created, exp int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT org_id, user_id, access_token, refresh_token, access_expires_at, created_at, expires_at
		FROM ui_sessions WHERE id_hash = ? AND expires_at > ?`, idHash, toNanos(now)).
		Scan(&org, &user, &u.Access, &u.Refresh, &accessExp, &created, &exp)
	if err != nil {
		return domain.UISession{}, fmt.Errorf("sqlitestore: get ui session: %w", mapErr(err))
	}
	u.OrgID, u.UserID = domain.OrgID(org), domain.UserID(user)
	u.AccessExpiresAt, u.CreatedAt, u.ExpiresAt = fromNanos(accessExp), fromNanos(created), fromNanos(exp)
	if u.Access, err = s.openField(ctx, s.r, u.Tenant(), "ui session", idHash, "access_token", u.Access); err != nil {
		return domain.UISession{}, fmt.Errorf("sqlitestore: get ui session: %w", err)
	}
	if u.Refresh, err = s.openField(ctx, s.r, u.Tenant(), "ui session", idHash, "refresh_token", u.Refresh); err != nil {
		return domain.UISession{}, fmt.Errorf("sqlitestore: get ui session: %w", err)
	}
	return u, nil
}

// ClaimUISessionRefresh implements ports.UISessionStore.
func (s *Store) ClaimUISessionRefresh(ctx context.Context, t domain.Tenant, idHash string, now, until time.Time) (bool, error) {
	var claimed bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		var lease int64
		err := tx.QueryRowContext(ctx, `SELECT refresh_lease FROM ui_sessions WHERE id_hash = ? AND org_id = ? AND user_id = ?`,
			idHash, string(t.OrgID), string(t.UserID)).Scan(&lease)
		if err != nil {
			return mapErr(err)
		}
		if lease > toNanos(now) {
			return nil
		}
		claimed = true
		_, err = tx.ExecContext(ctx, `UPDATE ui_sessions SET refresh_lease = ? WHERE id_hash = ?`, toNanos(until), idHash)
		return mapErr(err)
	})
	if err != nil {
		return false, fmt.Errorf("sqlitestore: claim ui session refresh: %w", err)
	}
	return claimed, nil
}

// SaveUISessionTokens implements ports.UISessionStore.
func (s *Store) SaveUISessionTokens(ctx context.Context, t domain.Tenant, idHash, access, refresh string, accessExpiresAt time.Time) error {
	u := domain.UISession{IDHash: idHash, OrgID: t.OrgID, UserID: t.UserID, Access: access, Refresh: refresh,
		CreatedAt: accessExpiresAt, ExpiresAt: accessExpiresAt}
	if err := u.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: save ui session tokens: %w", err)
	}
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return fmt.Errorf("sqlitestore: save ui session tokens: %w", err)
	}
	if access, err = sealField(dk, idHash, "access_token", access); err != nil {
		return fmt.Errorf("sqlitestore: save ui session tokens: %w", err)
	}
	if refresh, err = sealField(dk, idHash, "refresh_token", refresh); err != nil {
		return fmt.Errorf("sqlitestore: save ui session tokens: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, `UPDATE ui_sessions SET access_token = ?, refresh_token = ?, access_expires_at = ?, refresh_lease = 0
			WHERE id_hash = ? AND org_id = ? AND user_id = ?`, access, refresh, toNanos(accessExpiresAt), idHash, string(t.OrgID), string(t.UserID))
		if err == nil && n == 0 {
			err = domain.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: save ui session tokens: %w", err)
	}
	return nil
}

// DeleteUISession implements ports.UISessionStore.
func (s *Store) DeleteUISession(ctx context.Context, t domain.Tenant, idHash string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE id_hash = ? AND org_id = ? AND user_id = ?`,
			idHash, string(t.OrgID), string(t.UserID))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete ui session: %w", err)
	}
	return nil
}
