package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.DataMigration = (*Store)(nil)

// BeginMigration implements ports.DataMigration.
func (s *Store) BeginMigration(ctx context.Context, source string, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM data_migration_positions`); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO data_migration (id, source, started_at) VALUES (1, ?, ?)`, source, at.UnixNano())
		return mapErr(err)
	})
}

// MigrationInProgress implements ports.DataMigration.
func (s *Store) MigrationInProgress(ctx context.Context) (string, time.Time, bool, error) {
	var src string
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT source, started_at FROM data_migration WHERE id = 1`).Scan(&src, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("sqlitestore: migration mark: %w", mapErr(err))
	}
	return src, fromNanos(at), true, nil
}

// EndMigration implements ports.DataMigration.
func (s *Store) EndMigration(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM data_migration_positions`); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM data_migration`)
		return mapErr(err)
	})
}

// rollbackTables are emptied children first; search_fts is emptied with
// FTS5's delete-all command, which contentless tables accept.
var rollbackTables = []string{
	"experiment_assignments", "experiment_history", "experiments", "feedback_events", "query_logs",
	"memory_access", "memory_changes", "search_docs", "apps", "memories",
}

// RollbackMigration implements ports.DataMigration.
func (s *Store) RollbackMigration(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM data_migration`).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return fmt.Errorf("no unfinished migration into this store: %w", domain.ErrConflict)
		}
		for _, t := range rollbackTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return mapErr(err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO search_fts (search_fts) VALUES ('delete-all')`); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM data_migration_positions`); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM data_migration`)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: roll back migration: %w", err)
	}
	return nil
}
