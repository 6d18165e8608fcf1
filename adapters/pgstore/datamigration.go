package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.DataMigration = (*Store)(nil)

// BeginMigration implements ports.DataMigration.
func (s *Store) BeginMigration(ctx context.Context, source string, at time.Time) error {
	err := s.inTx(ctx, "", false, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM data_migration_positions`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO data_migration (id, source, started_at) VALUES (1, $1, $2)
			ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, started_at = EXCLUDED.started_at`, source, at.UTC())
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: mark migration: %w", mapErr(err))
	}
	return nil
}

// MigrationInProgress implements ports.DataMigration.
func (s *Store) MigrationInProgress(ctx context.Context) (src string, at time.Time, ok bool, err error) {
	err = s.inTx(ctx, "", true, func(tx *sqlx.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT source, started_at FROM data_migration WHERE id = 1`).Scan(&src, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("pgstore: migration mark: %w", mapErr(err))
	}
	return src, at.UTC(), ok, nil
}

// EndMigration implements ports.DataMigration.
func (s *Store) EndMigration(ctx context.Context) error {
	err := s.inTx(ctx, "", false, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM data_migration_positions`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM data_migration`)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: clear migration mark: %w", mapErr(err))
	}
	return nil
}

// rollbackTables are emptied org by org (row-level security scopes every
// DELETE), children first; feedback_rollups follow by trigger.
var rollbackTables = []string{
	"experiment_assignments", "experiment_history", "experiments", "feedback_events", "query_logs",
	"memory_access", "memory_changes", "memory_search", "apps", "memories",
}

// RollbackMigration implements ports.DataMigration in one transaction
// without a statement timeout (a big copy takes long to delete).
func (s *Store) RollbackMigration(ctx context.Context) error {
	err := s.inTx(ctx, "", false, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT set_config('statement_timeout', '0', true)`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM data_migration`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return callerError{fmt.Errorf("no unfinished migration into this database: %w", domain.ErrConflict)}
		}
		var orgs []string
		if err := tx.SelectContext(ctx, &orgs, `SELECT org_id FROM memory_orgs`); err != nil {
			return err
		}
		for _, org := range orgs {
			if _, err := tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true)`, org); err != nil {
				return err
			}
			for _, t := range rollbackTables {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM data_migration_positions`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM data_migration`)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: roll back migration: %w", mapErr(err))
	}
	return nil
}
