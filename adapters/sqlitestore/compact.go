package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/engram-memory/engram/domain"
)

// Compact leaves no byte of erased text in the database file or its WAL
// (issue 16). Deleting a contentless FTS5 row removes its positions, but a
// term that begins a segment page stays on that page, and in the segment
// index, until the segment is rewritten, so erased words would outlive
// their rows; 'optimize' rewrites the index into one segment of live terms
// only, and secure_delete zeroes the pages it frees. The WAL still holds
// old page images; a TRUNCATE checkpoint copies the live pages into the
// database and empties it. It costs a rewrite of the whole text index, so
// erasure calls it once at the end of a job and the retention sweeper once
// per sweep that erased something, not per deleted row.
func (s *Store) Compact(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO search_fts (search_fts) VALUES ('optimize')`)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: compact text index: %w", err)
	}
	var busy, logged, moved int
	if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &moved); err != nil {
		return fmt.Errorf("sqlitestore: truncate WAL: %w", mapErr(err))
	}
	if busy != 0 {
		// A reader held an old snapshot past the busy timeout: the WAL
		// was not emptied. The caller tries again.
		return fmt.Errorf("sqlitestore: truncate WAL: %w", &domain.UnavailableError{Dependency: "sqlite", Err: errors.New("a reader kept the WAL busy")})
	}
	return nil
}
