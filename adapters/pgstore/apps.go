package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
)

const appCols = `org_id, user_id, id, description, active, created_at, updated_at`

type appRow struct {
	OrgID       string    `db:"org_id"`
	UserID      string    `db:"user_id"`
	ID          string    `db:"id"`
	Description string    `db:"description"`
	Active      bool      `db:"active"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

func (r appRow) app() domain.App {
	return domain.App{
		ID: domain.AppID(r.ID), OrgID: domain.OrgID(r.OrgID), UserID: domain.UserID(r.UserID),
		Description: r.Description, Active: r.Active, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// EnsureApp returns the app, creating it active on first use. ON CONFLICT
// DO NOTHING makes concurrent first uses converge on one row; the read that
// follows sees it because the conflicting insert has committed by then.
func (s *Store) EnsureApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error) {
	a := domain.App{ID: id, OrgID: t.OrgID, UserID: t.UserID, Active: true}
	if err := a.Validate(); err != nil {
		return domain.App{}, fmt.Errorf("pgstore: ensure app %s: %w", id, err)
	}
	var out domain.App
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		now := s.now()
		var row appRow
		err := tx.GetContext(ctx, &row, `INSERT INTO apps (`+appCols+`) VALUES ($1, $2, $3, '', true, $4, $4)
			ON CONFLICT (org_id, user_id, id) DO NOTHING RETURNING `+appCols, t.OrgID, t.UserID, id, now)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.GetContext(ctx, &row, `SELECT `+appCols+` FROM apps WHERE org_id = $1 AND user_id = $2 AND id = $3`, t.OrgID, t.UserID, id)
		}
		out = row.app()
		return err
	})
	if err != nil {
		return domain.App{}, fmt.Errorf("pgstore: ensure app %s: %w", id, mapErr(err))
	}
	return out, nil
}

// GetApp returns one app of the tenant.
func (s *Store) GetApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error) {
	if err := t.Validate(); err != nil {
		return domain.App{}, fmt.Errorf("pgstore: get app %s: %w", id, err)
	}
	var out domain.App
	err := s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		var row appRow
		err := tx.GetContext(ctx, &row, `SELECT `+appCols+` FROM apps WHERE org_id = $1 AND user_id = $2 AND id = $3`, t.OrgID, t.UserID, id)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.ErrNotFound
		}
		out = row.app()
		return err
	})
	if err != nil {
		return domain.App{}, fmt.Errorf("pgstore: get app %s: %w", id, mapErr(err))
	}
	return out, nil
}

// ListApps returns the tenant's apps ordered by id.
func (s *Store) ListApps(ctx context.Context, t domain.Tenant) ([]domain.App, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("pgstore: list apps: %w", err)
	}
	out := []domain.App{}
	err := s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		var rows []appRow
		if err := tx.SelectContext(ctx, &rows, `SELECT `+appCols+` FROM apps WHERE org_id = $1 AND user_id = $2 ORDER BY id`, t.OrgID, t.UserID); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.app())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: list apps: %w", mapErr(err))
	}
	return out, nil
}

// UpdateApp lets fn change the app's description and active flag under a
// row lock.
func (s *Store) UpdateApp(ctx context.Context, t domain.Tenant, id domain.AppID, fn func(*domain.App) error) (domain.App, error) {
	if err := t.Validate(); err != nil {
		return domain.App{}, fmt.Errorf("pgstore: update app %s: %w", id, err)
	}
	var out domain.App
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		var row appRow
		err := tx.GetContext(ctx, &row, `SELECT `+appCols+` FROM apps WHERE org_id = $1 AND user_id = $2 AND id = $3 FOR UPDATE`, t.OrgID, t.UserID, id)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.ErrNotFound
		}
		if err != nil {
			return err
		}
		old := row.app()
		next := old
		if err := fn(&next); err != nil {
			return callerError{err}
		}
		next.ID, next.OrgID, next.UserID, next.CreatedAt, next.UpdatedAt = old.ID, old.OrgID, old.UserID, old.CreatedAt, old.UpdatedAt
		if err := next.Validate(); err != nil {
			return err
		}
		if next == old {
			out = old
			return nil
		}
		err = tx.GetContext(ctx, &row, `UPDATE apps SET description = $4, active = $5, updated_at = $6
			WHERE org_id = $1 AND user_id = $2 AND id = $3 RETURNING `+appCols,
			t.OrgID, t.UserID, id, next.Description, next.Active, s.now())
		out = row.app()
		return err
	})
	if ce := (callerError{}); errors.As(err, &ce) {
		return domain.App{}, ce.err // the contract: fn's error as is, unwrapped
	}
	if err != nil {
		return domain.App{}, fmt.Errorf("pgstore: update app %s: %w", id, mapErr(err))
	}
	return out, nil
}
