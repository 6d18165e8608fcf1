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

var _ ports.OAuthStore = (*Store)(nil)

// CreateClient implements ports.OAuthStore. Clients are not tenant rows:
// the table has no row-level security and the transaction binds no org.
func (s *Store) CreateClient(ctx context.Context, c domain.OAuthClient) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("pgstore: create oauth client: %w", err)
	}
	err := s.inTx(ctx, "", false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_clients (client_id, client_name, redirect_uris, created_at)
			VALUES ($1, $2, $3, $4)`, c.ID, c.Name, pq.StringArray(c.RedirectURIs), c.CreatedAt.UTC().Truncate(time.Microsecond))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: create oauth client: %w", mapErr(err))
	}
	return nil
}

// GetClient implements ports.OAuthStore.
func (s *Store) GetClient(ctx context.Context, id string) (domain.OAuthClient, error) {
	c := domain.OAuthClient{ID: id}
	var uris pq.StringArray
	err := s.inTx(ctx, "", true, func(tx *sqlx.Tx) error {
		return noRows(tx.QueryRowContext(ctx, `SELECT client_name, redirect_uris, created_at FROM oauth_clients WHERE client_id = $1`, id).
			Scan(&c.Name, &uris, &c.CreatedAt))
	})
	if err != nil {
		return domain.OAuthClient{}, fmt.Errorf("pgstore: get oauth client: %w", mapErr(err))
	}
	c.RedirectURIs, c.CreatedAt = []string(uris), c.CreatedAt.UTC()
	return c, nil
}

// PutUser implements ports.OAuthStore.
func (s *Store) PutUser(ctx context.Context, u domain.OAuthUser) error {
	if err := u.Tenant().Validate(); err != nil {
		return fmt.Errorf("pgstore: put oauth user: %w", err)
	}
	err := s.inTx(ctx, u.OrgID, false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_users
			(org_id, user_id, password_hash, code_hash, code_expires_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (org_id, user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash,
				code_hash = EXCLUDED.code_hash, code_expires_at = EXCLUDED.code_expires_at, updated_at = EXCLUDED.updated_at`,
			u.OrgID, u.UserID, u.PasswordHash, u.CodeHash, timeOrNull(u.CodeExpiresAt),
			u.CreatedAt.UTC().Truncate(time.Microsecond), u.UpdatedAt.UTC().Truncate(time.Microsecond))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: put oauth user: %w", mapErr(err))
	}
	return nil
}

// GetUser implements ports.OAuthStore.
func (s *Store) GetUser(ctx context.Context, org domain.OrgID, user domain.UserID) (domain.OAuthUser, error) {
	u := domain.OAuthUser{OrgID: org, UserID: user}
	var exp sql.NullTime
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		return noRows(tx.QueryRowContext(ctx, `SELECT password_hash, code_hash, code_expires_at, created_at, updated_at
			FROM oauth_users WHERE org_id = $1 AND user_id = $2`, org, user).
			Scan(&u.PasswordHash, &u.CodeHash, &exp, &u.CreatedAt, &u.UpdatedAt))
	})
	if err != nil {
		return domain.OAuthUser{}, fmt.Errorf("pgstore: get oauth user: %w", mapErr(err))
	}
	u.CodeExpiresAt, u.CreatedAt, u.UpdatedAt = nullTime(exp), u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, nil
}

const grantCols = `id, org_id, user_id, client_id, scopes, redirect_uri, code_challenge, created_at, revoked_at`

func scanGrant(sc interface{ Scan(...any) error }) (domain.OAuthGrant, error) {
	var (
		g       domain.OAuthGrant
		scopes  pq.StringArray
		revoked sql.NullTime
	)
	if err := sc.Scan(&g.ID, &g.OrgID, &g.UserID, &g.ClientID, &scopes, &g.RedirectURI, &g.CodeChallenge, &g.CreatedAt, &revoked); err != nil {
		return domain.OAuthGrant{}, err
	}
	for _, sc := range scopes {
		g.Scopes = append(g.Scopes, domain.Scope(sc))
	}
	g.CreatedAt, g.RevokedAt = g.CreatedAt.UTC(), nullTime(revoked)
	return g, nil
}

func insertToken(ctx context.Context, tx *sqlx.Tx, org domain.OrgID, grant string, t domain.OAuthToken) error {
	if err := t.Validate(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO oauth_tokens (token_hash, org_id, grant_id, kind, created_at, expires_at, used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.Hash, org, grant, t.Kind, t.CreatedAt.UTC().Truncate(time.Microsecond),
		t.ExpiresAt.UTC().Truncate(time.Microsecond), timeOrNull(t.UsedAt))
	return err
}

// CreateGrant implements ports.OAuthStore.
func (s *Store) CreateGrant(ctx context.Context, g domain.OAuthGrant, first domain.OAuthToken) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("pgstore: create oauth grant: %w", err)
	}
	if err := first.Validate(); err != nil {
		return fmt.Errorf("pgstore: create oauth grant: %w", err)
	}
	scopes := make([]string, len(g.Scopes))
	for i, sc := range g.Scopes {
		scopes[i] = string(sc)
	}
	err := s.inTx(ctx, g.OrgID, false, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO oauth_grants (`+grantCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			g.ID, g.OrgID, g.UserID, g.ClientID, pq.StringArray(scopes), g.RedirectURI, g.CodeChallenge,
			g.CreatedAt.UTC().Truncate(time.Microsecond), timeOrNull(g.RevokedAt)); err != nil {
			return err
		}
		return insertToken(ctx, tx, g.OrgID, g.ID, first)
	})
	if err != nil {
		return fmt.Errorf("pgstore: create oauth grant: %w", mapErr(err))
	}
	return nil
}

// inTokenTx runs fn in a transaction that first finds the token by its hash
// (no org is known yet; the policy shows that one row), then binds the
// token's org, so fn reads and writes as that tenant and nothing else.
func (s *Store) inTokenTx(ctx context.Context, hash string, fn func(tx *sqlx.Tx, org domain.OrgID) error) error {
	if len(hash) != 64 {
		return domain.ErrNotFound
	}
	return s.inTxWith(ctx, "'', true), set_config('engram.token_hash', "+pq.QuoteLiteral(hash)+", true)", false, func(tx *sqlx.Tx) error {
		var org domain.OrgID
		if err := noRows(tx.QueryRowContext(ctx, `SELECT org_id FROM oauth_tokens WHERE token_hash = $1`, hash).Scan(&org)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true), set_config('engram.token_hash', '', true)`, org); err != nil {
			return err
		}
		return fn(tx, org)
	})
}

// UseToken implements ports.OAuthStore. The token row is locked (FOR
// UPDATE), so of concurrent uses the later ones wait and then see it used.
func (s *Store) UseToken(ctx context.Context, hash string, at time.Time, next domain.OAuthToken,
	check func(domain.OAuthGrant, domain.OAuthToken) error) (domain.OAuthGrant, error) {
	var (
		g      domain.OAuthGrant
		reused bool
	)
	at = at.UTC().Truncate(time.Microsecond)
	err := s.inTokenTx(ctx, hash, func(tx *sqlx.Tx, _ domain.OrgID) error {
		tok := domain.OAuthToken{Hash: hash}
		var used sql.NullTime
		if err := noRows(tx.QueryRowContext(ctx, `SELECT grant_id, kind, created_at, expires_at, used_at
			FROM oauth_tokens WHERE token_hash = $1 FOR UPDATE`, hash).
			Scan(&tok.GrantID, &tok.Kind, &tok.CreatedAt, &tok.ExpiresAt, &used)); err != nil {
			return err
		}
		tok.CreatedAt, tok.ExpiresAt, tok.UsedAt = tok.CreatedAt.UTC(), tok.ExpiresAt.UTC(), nullTime(used)
		var err error
		g, err = scanGrant(tx.QueryRowContext(ctx, `SELECT `+grantCols+` FROM oauth_grants WHERE id = $1`, tok.GrantID))
		if err := noRows(err); err != nil {
			return err
		}
		if !g.RevokedAt.IsZero() {
			return fmt.Errorf("grant revoked: %w", domain.ErrNotFound)
		}
		if !tok.UsedAt.IsZero() {
			reused = true
			_, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, g.ID, at)
			return err
		}
		if check != nil {
			if err := check(g, tok); err != nil {
				return callerError{err}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_tokens SET used_at = $2 WHERE token_hash = $1`, hash, at); err != nil {
			return err
		}
		if next.Hash != "" {
			return insertToken(ctx, tx, g.OrgID, g.ID, next)
		}
		return nil
	})
	switch {
	case err != nil:
		return domain.OAuthGrant{}, fmt.Errorf("pgstore: use oauth token: %w", mapErr(err))
	case reused:
		return domain.OAuthGrant{}, fmt.Errorf("pgstore: use oauth token: already used, grant %s revoked: %w", g.ID, domain.ErrConflict)
	}
	return g, nil
}

// RevokeByToken implements ports.OAuthStore.
func (s *Store) RevokeByToken(ctx context.Context, hash string, at time.Time) error {
	err := s.inTokenTx(ctx, hash, func(tx *sqlx.Tx, _ domain.OrgID) error {
		_, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = COALESCE(revoked_at, $2)
			WHERE id = (SELECT grant_id FROM oauth_tokens WHERE token_hash = $1)`, hash, at.UTC().Truncate(time.Microsecond))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: revoke oauth token: %w", mapErr(err))
	}
	return nil
}

// ListGrants implements ports.OAuthStore.
func (s *Store) ListGrants(ctx context.Context, t domain.Tenant) ([]domain.OAuthGrant, error) {
	var out []domain.OAuthGrant
	err := s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+grantCols+` FROM oauth_grants WHERE org_id = $1 AND user_id = $2 ORDER BY id DESC`,
			t.OrgID, t.UserID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			g, err := scanGrant(rows)
			if err != nil {
				return err
			}
			out = append(out, g)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: list oauth grants: %w", mapErr(err))
	}
	return out, nil
}

// RevokeGrant implements ports.OAuthStore.
func (s *Store) RevokeGrant(ctx context.Context, t domain.Tenant, id string, at time.Time) error {
	if !domain.ValidID(id) {
		return fmt.Errorf("pgstore: revoke oauth grant: %w", domain.ErrNotFound)
	}
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		var one int
		return noRows(tx.QueryRowContext(ctx, `UPDATE oauth_grants SET revoked_at = COALESCE(revoked_at, $4)
			WHERE org_id = $1 AND user_id = $2 AND id = $3 RETURNING 1`, t.OrgID, t.UserID, id, at.UTC().Truncate(time.Microsecond)).Scan(&one))
	})
	if err != nil {
		return fmt.Errorf("pgstore: revoke oauth grant %s: %w", id, mapErr(err))
	}
	return nil
}
