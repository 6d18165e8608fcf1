package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
)

const appCols = `org_id, user_id, id, description, active, created_at, updated_at`

func scanApp(sc scanner) (domain.App, error) {
	var (
		a               domain.App
		org, user, id   string
		active          bool
		created, update int64
	)
	if err := sc.Scan(&org, &user, &id, &a.Description, &active, &created, &update); err != nil {
		return domain.App{}, err
	}
	a.OrgID, a.UserID, a.ID, a.Active = domain.OrgID(org), domain.UserID(user), domain.AppID(id), active
	a.CreatedAt, a.UpdatedAt = fromNanos(created), fromNanos(update)
	return a, nil
}

func checkApp(t domain.Tenant, id domain.AppID) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return domain.ValidateAppID(id)
}

// EnsureApp implements ports.AppStore. It is on the path of every add and
// every recorded read, so the common case (the app exists) costs one read
// and no write lock.
func (s *Store) EnsureApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error) {
	if err := checkApp(t, id); err != nil {
		return domain.App{}, fmt.Errorf("sqlitestore: ensure app %s: %w", id, err)
	}
	a, err := s.GetApp(ctx, t, id)
	if !errors.Is(err, domain.ErrNotFound) {
		return a, err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		at := toNanos(time.Now())
		// DO NOTHING keeps a row a concurrent caller created first.
		if _, err := tx.ExecContext(ctx, `INSERT INTO apps (`+appCols+`) VALUES (?, ?, ?, '', 1, ?, ?)
			ON CONFLICT (org_id, user_id, id) DO NOTHING`, string(t.OrgID), string(t.UserID), string(id), at, at); err != nil {
			return mapErr(err)
		}
		a, err = loadApp(ctx, tx, t, id)
		return err
	})
	if err != nil {
		return domain.App{}, fmt.Errorf("sqlitestore: ensure app %s: %w", id, err)
	}
	return a, nil
}

func loadApp(ctx context.Context, tx *sql.Tx, t domain.Tenant, id domain.AppID) (domain.App, error) {
	a, err := scanApp(tx.QueryRowContext(ctx, `SELECT `+appCols+` FROM apps WHERE org_id = ? AND user_id = ? AND id = ?`,
		string(t.OrgID), string(t.UserID), string(id)))
	return a, mapErr(err)
}

// GetApp implements ports.AppStore.
func (s *Store) GetApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error) {
	if err := checkApp(t, id); err != nil {
		return domain.App{}, fmt.Errorf("sqlitestore: get app %s: %w", id, err)
	}
	a, err := scanApp(s.r.QueryRowContext(ctx, `SELECT `+appCols+` FROM apps WHERE org_id = ? AND user_id = ? AND id = ?`,
		string(t.OrgID), string(t.UserID), string(id)))
	if err != nil {
		return domain.App{}, fmt.Errorf("sqlitestore: get app %s: %w", id, mapErr(err))
	}
	return a, nil
}

// ListApps implements ports.AppStore.
func (s *Store) ListApps(ctx context.Context, t domain.Tenant) ([]domain.App, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list apps: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+appCols+` FROM apps WHERE org_id = ? AND user_id = ? ORDER BY id`,
		string(t.OrgID), string(t.UserID))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list apps: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.App
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list apps: %w", mapErr(err))
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list apps: %w", mapErr(err))
	}
	return out, nil
}

// UpdateApp implements ports.AppStore; the write transaction is the lock.
func (s *Store) UpdateApp(ctx context.Context, t domain.Tenant, id domain.AppID, fn func(*domain.App) error) (domain.App, error) {
	if err := checkApp(t, id); err != nil {
		return domain.App{}, fmt.Errorf("sqlitestore: update app %s: %w", id, err)
	}
	var out domain.App
	err := s.write(ctx, func(tx *sql.Tx) error {
		old, err := loadApp(ctx, tx, t, id)
		if err != nil {
			return err
		}
		a := old
		if err := fn(&a); err != nil {
			return fnError{err}
		}
		a.ID, a.OrgID, a.UserID, a.CreatedAt = old.ID, old.OrgID, old.UserID, old.CreatedAt
		if err := a.Validate(); err != nil {
			return err
		}
		if a.Description == old.Description && a.Active == old.Active {
			out = old
			return nil
		}
		a.UpdatedAt = now(old.UpdatedAt)
		if _, err := tx.ExecContext(ctx, `UPDATE apps SET description = ?, active = ?, updated_at = ?
			WHERE org_id = ? AND user_id = ? AND id = ?`, a.Description, a.Active, toNanos(a.UpdatedAt),
			string(t.OrgID), string(t.UserID), string(id)); err != nil {
			return mapErr(err)
		}
		out = a
		return nil
	})
	var fe fnError
	if errors.As(err, &fe) {
		return domain.App{}, fe.err
	}
	if err != nil {
		return domain.App{}, fmt.Errorf("sqlitestore: update app %s: %w", id, err)
	}
	return out, nil
}
