package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.ErasureJobs = (*Store)(nil)

const erasureCols = `id, org_id, user_id, org_wide, subject_hash, requested_by, status, attempts, last_error, created_at, updated_at, finished_at`

// StartErasure implements ports.ErasureJobs. The partial unique index on
// unfinished jobs makes the insert a no-op when one exists; the holder is
// then read in the same transaction.
func (s *Store) StartErasure(ctx context.Context, e domain.Erasure) (domain.Erasure, bool, error) {
	var (
		out    domain.Erasure
		joined bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO erasure_jobs (`+erasureCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
			ON CONFLICT DO NOTHING`,
			string(e.ID), string(e.OrgID), string(e.UserID), e.OrgWide, e.SubjectHash, e.RequestedBy, string(e.Status),
			e.Attempts, e.LastError, toNanos(e.CreatedAt), toNanos(e.UpdatedAt))
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = e
			return nil
		}
		joined = true
		row := tx.QueryRowContext(ctx, `SELECT `+erasureCols+` FROM erasure_jobs
			WHERE org_id = ? AND org_wide = ? AND subject_hash = ? AND status <> 'done'`, string(e.OrgID), e.OrgWide, e.SubjectHash)
		out, err = scanErasure(row)
		return err
	})
	if err != nil {
		return domain.Erasure{}, false, fmt.Errorf("sqlitestore: start erasure: %w", err)
	}
	return out, joined, nil
}

// GetErasure implements ports.ErasureJobs.
func (s *Store) GetErasure(ctx context.Context, org domain.OrgID, id domain.ErasureID) (domain.Erasure, error) {
	e, err := scanErasure(s.r.QueryRowContext(ctx, `SELECT `+erasureCols+` FROM erasure_jobs WHERE org_id = ? AND id = ?`, string(org), string(id)))
	if err == nil {
		e.Counts, err = s.erasureCounts(ctx, id)
	}
	if err != nil {
		return domain.Erasure{}, fmt.Errorf("sqlitestore: get erasure %s: %w", id, err)
	}
	return e, nil
}

func (s *Store) erasureCounts(ctx context.Context, id domain.ErasureID) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT store, n FROM erasure_counts WHERE erasure_id = ?`, string(id))
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			store string
			n     int64
		)
		if err := rows.Scan(&store, &n); err != nil {
			return nil, mapErr(err)
		}
		out[store] = n
	}
	return out, mapErr(rows.Err())
}

// SaveErasure implements ports.ErasureJobs.
func (s *Store) SaveErasure(ctx context.Context, e domain.Erasure) error {
	var finished any
	if !e.FinishedAt.IsZero() {
		finished = toNanos(e.FinishedAt)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE erasure_jobs SET status = ?, user_id = ?, attempts = ?, last_error = ?, updated_at = ?, finished_at = ?
			WHERE org_id = ? AND id = ?`, string(e.Status), string(e.UserID), e.Attempts, e.LastError, toNanos(e.UpdatedAt), finished,
			string(e.OrgID), string(e.ID))
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return domain.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: save erasure %s: %w", e.ID, err)
	}
	return nil
}

// AddErasureCounts implements ports.ErasureJobs.
func (s *Store) AddErasureCounts(ctx context.Context, org domain.OrgID, id domain.ErasureID, counts map[string]int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		for store, n := range counts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO erasure_counts (org_id, erasure_id, store, n) VALUES (?, ?, ?, ?)
				ON CONFLICT (erasure_id, store) DO UPDATE SET n = n + excluded.n`, string(org), string(id), store, n); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: count erasure %s: %w", id, err)
	}
	return nil
}

// UnfinishedErasures implements ports.ErasureJobs.
func (s *Store) UnfinishedErasures(ctx context.Context, limit int) ([]domain.Erasure, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+erasureCols+` FROM erasure_jobs WHERE status <> 'done' ORDER BY created_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: unfinished erasures: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.Erasure
	for rows.Next() {
		e, err := scanErasure(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: unfinished erasures: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: unfinished erasures: %w", mapErr(err))
	}
	return out, nil
}

func scanErasure(row interface{ Scan(...any) error }) (domain.Erasure, error) {
	var (
		e                 domain.Erasure
		id, org, user, st string
		created, updated  int64
		finished          sql.NullInt64
	)
	err := row.Scan(&id, &org, &user, &e.OrgWide, &e.SubjectHash, &e.RequestedBy, &st, &e.Attempts, &e.LastError, &created, &updated, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return e, domain.ErrNotFound
	}
	if err != nil {
		return e, mapErr(err)
	}
	e.ID, e.OrgID, e.UserID, e.Status = domain.ErasureID(id), domain.OrgID(org), domain.UserID(user), domain.ErasureStatus(st)
	e.CreatedAt, e.UpdatedAt = fromNanos(created), fromNanos(updated)
	if finished.Valid {
		e.FinishedAt = fromNanos(finished.Int64)
	}
	return e, nil
}
