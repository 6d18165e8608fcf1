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

var _ ports.OAuthStore = (*Store)(nil)

// CreateClient implements ports.OAuthStore.
func (s *Store) CreateClient(ctx context.Context, c domain.OAuthClient) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: create oauth client: %w", err)
	}
	uris, err := json.Marshal(c.RedirectURIs)
	if err != nil {
		return fmt.Errorf("sqlitestore: create oauth client: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_clients (client_id, client_name, redirect_uris, created_at)
			VALUES (?, ?, ?, ?)`, c.ID, c.Name, string(uris), toNanos(c.CreatedAt))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: create oauth client: %w", err)
	}
	return nil
}

// GetClient implements ports.OAuthStore.
func (s *Store) GetClient(ctx context.Context, id string) (domain.OAuthClient, error) {
	var (
		c       = domain.OAuthClient{ID: id}
		uris    string
		created int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT client_name, redirect_uris, created_at FROM oauth_clients WHERE client_id = ?`, id).
		Scan(&c.Name, &uris, &created)
	if err != nil {
		return domain.OAuthClient{}, fmt.Errorf("sqlitestore: get oauth client: %w", mapErr(err))
	}
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return domain.OAuthClient{}, fmt.Errorf("sqlitestore: decode redirect uris of client %s: %w", id, err)
	}
	c.CreatedAt = fromNanos(created)
	return c, nil
}

// PutUser implements ports.OAuthStore.
func (s *Store) PutUser(ctx context.Context, u domain.OAuthUser) error {
	if err := u.Tenant().Validate(); err != nil {
		return fmt.Errorf("sqlitestore: put oauth user: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_users
			(org_id, user_id, password_hash, code_hash, code_expires_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, user_id) DO UPDATE SET password_hash = excluded.password_hash,
				code_hash = excluded.code_hash, code_expires_at = excluded.code_expires_at, updated_at = excluded.updated_at`,
			string(u.OrgID), string(u.UserID), u.PasswordHash, u.CodeHash, nanosOrZero(u.CodeExpiresAt),
			toNanos(u.CreatedAt), toNanos(u.UpdatedAt))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: put oauth user: %w", err)
	}
	return nil
}

// GetUser implements ports.OAuthStore.
func (s *Store) GetUser(ctx context.Context, org domain.OrgID, user domain.UserID) (domain.OAuthUser, error) {
	u := domain.OAuthUser{OrgID: org, UserID: user}
	var exp, created, updated int64
	err := s.r.QueryRowContext(ctx, `SELECT password_hash, code_hash, code_expires_at, created_at, updated_at
		FROM oauth_users WHERE org_id = ? AND user_id = ?`, string(org), string(user)).
		Scan(&u.PasswordHash, &u.CodeHash, &exp, &created, &updated)
	if err != nil {
		return domain.OAuthUser{}, fmt.Errorf("sqlitestore: get oauth user: %w", mapErr(err))
	}
	u.CodeExpiresAt, u.CreatedAt, u.UpdatedAt = keyTime(exp), fromNanos(created), fromNanos(updated)
	return u, nil
}

const grantCols = `id, org_id, user_id, client_id, scopes, redirect_uri, code_challenge, created_at, revoked_at`

func scanGrant(sc scanner) (domain.OAuthGrant, error) {
	var (
		g                domain.OAuthGrant
		org, user        string
		scopes           string
		created, revoked int64
	)
	if err := sc.Scan(&g.ID, &org, &user, &g.ClientID, &scopes, &g.RedirectURI, &g.CodeChallenge, &created, &revoked); err != nil {
		return domain.OAuthGrant{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &g.Scopes); err != nil {
		return domain.OAuthGrant{}, fmt.Errorf("decode scopes of grant %s: %w", g.ID, err)
	}
	g.OrgID, g.UserID = domain.OrgID(org), domain.UserID(user)
	g.CreatedAt, g.RevokedAt = fromNanos(created), keyTime(revoked)
	return g, nil
}

func insertToken(ctx context.Context, tx *sql.Tx, org domain.OrgID, grant string, t domain.OAuthToken) error {
	if err := t.Validate(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO oauth_tokens (token_hash, org_id, grant_id, kind, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, t.Hash, string(org), grant, string(t.Kind), toNanos(t.CreatedAt),
		toNanos(t.ExpiresAt), nanosOrZero(t.UsedAt))
	return mapErr(err)
}

// CreateGrant implements ports.OAuthStore.
func (s *Store) CreateGrant(ctx context.Context, g domain.OAuthGrant, first domain.OAuthToken) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: create oauth grant: %w", err)
	}
	if err := first.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: create oauth grant: %w", err)
	}
	scopes, err := json.Marshal(g.Scopes)
	if err != nil {
		return fmt.Errorf("sqlitestore: create oauth grant: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO oauth_grants (`+grantCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.ID, string(g.OrgID), string(g.UserID), g.ClientID, string(scopes), g.RedirectURI, g.CodeChallenge,
			toNanos(g.CreatedAt), nanosOrZero(g.RevokedAt)); err != nil {
			return mapErr(err)
		}
		return insertToken(ctx, tx, g.OrgID, g.ID, first)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: create oauth grant: %w", err)
	}
	return nil
}

// UseToken implements ports.OAuthStore. The write transaction is the lock:
// SQLite has one writer, so two uses of one token serialise here.
func (s *Store) UseToken(ctx context.Context, hash string, at time.Time, next domain.OAuthToken,
	check func(domain.OAuthGrant, domain.OAuthToken) error) (domain.OAuthGrant, error) {
	var (
		g      domain.OAuthGrant
		reused bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		tok := domain.OAuthToken{Hash: hash}
		var kind string
		var created, exp, used int64
		err := tx.QueryRowContext(ctx, `SELECT grant_id, kind, created_at, expires_at, used_at FROM oauth_tokens WHERE token_hash = ?`, hash).
			Scan(&tok.GrantID, &kind, &created, &exp, &used)
		if err != nil {
			return mapErr(err)
		}
		tok.Kind, tok.CreatedAt, tok.ExpiresAt, tok.UsedAt = domain.OAuthTokenKind(kind), fromNanos(created), fromNanos(exp), keyTime(used)
		g, err = scanGrant(tx.QueryRowContext(ctx, `SELECT `+grantCols+` FROM oauth_grants WHERE id = ?`, tok.GrantID))
		if err != nil {
			return mapErr(err)
		}
		if !g.RevokedAt.IsZero() {
			return fmt.Errorf("grant revoked: %w", domain.ErrNotFound)
		}
		if !tok.UsedAt.IsZero() {
			reused = true
			_, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, toNanos(at), g.ID)
			return mapErr(err)
		}
		if check != nil {
			if err := check(g, tok); err != nil {
				return fnError{err}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_tokens SET used_at = ? WHERE token_hash = ?`, toNanos(at), hash); err != nil {
			return mapErr(err)
		}
		if next.Hash != "" {
			return insertToken(ctx, tx, g.OrgID, g.ID, next)
		}
		return nil
	})
	var fe fnError
	switch {
	case errors.As(err, &fe):
		return domain.OAuthGrant{}, fe.err
	case err != nil:
		return domain.OAuthGrant{}, fmt.Errorf("sqlitestore: use oauth token: %w", err)
	case reused:
		return domain.OAuthGrant{}, fmt.Errorf("sqlitestore: use oauth token: already used, grant %s revoked: %w", g.ID, domain.ErrConflict)
	}
	return g, nil
}

// RevokeByToken implements ports.OAuthStore.
func (s *Store) RevokeByToken(ctx context.Context, hash string, at time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var grant string
		if err := tx.QueryRowContext(ctx, `SELECT grant_id FROM oauth_tokens WHERE token_hash = ?`, hash).Scan(&grant); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, toNanos(at), grant)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: revoke oauth token: %w", err)
	}
	return nil
}

// ListGrants implements ports.OAuthStore.
func (s *Store) ListGrants(ctx context.Context, t domain.Tenant) ([]domain.OAuthGrant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+grantCols+` FROM oauth_grants WHERE org_id = ? AND user_id = ? ORDER BY id DESC`,
		string(t.OrgID), string(t.UserID))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list oauth grants: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.OAuthGrant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list oauth grants: %w", mapErr(err))
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list oauth grants: %w", mapErr(err))
	}
	return out, nil
}

// RevokeGrant implements ports.OAuthStore.
func (s *Store) RevokeGrant(ctx context.Context, t domain.Tenant, id string, at time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM oauth_grants WHERE org_id = ? AND user_id = ? AND id = ?`,
			string(t.OrgID), string(t.UserID), id).Scan(&one); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, toNanos(at), id)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: revoke oauth grant %s: %w", id, err)
	}
	return nil
}
