package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.ErasureJobs = (*Store)(nil)

const erasureCols = `id, org_id, user_id, org_wide, subject_hash, requested_by, status, attempts, last_error, created_at, updated_at, finished_at`

// StartErasure implements ports.ErasureJobs. The partial unique index on
// unfinished jobs turns a second start into a no-op insert; the holder is
// read in the same transaction (READ COMMITTED sees it once the conflict
// is reported, since ON CONFLICT waits for the other inserter to commit).
func (s *Store) StartErasure(ctx context.Context, e domain.Erasure) (domain.Erasure, bool, error) {
	var (
		out    domain.Erasure
		joined bool
	)
	err := s.inTx(ctx, e.OrgID, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO erasure_jobs (`+erasureCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)
			ON CONFLICT DO NOTHING`,
			e.ID, e.OrgID, e.UserID, e.OrgWide, e.SubjectHash, e.RequestedBy, e.Status, e.Attempts, e.LastError, e.CreatedAt.UTC(), e.UpdatedAt.UTC())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = e
			return nil
		}
		joined = true
		out, err = scanErasure(tx.QueryRowxContext(ctx, `SELECT `+erasureCols+` FROM erasure_jobs
			WHERE org_id = $1 AND org_wide = $2 AND subject_hash = $3 AND status <> 'done'`, e.OrgID, e.OrgWide, e.SubjectHash))
		return err
	})
	if err != nil {
		return domain.Erasure{}, false, fmt.Errorf("pgstore: start erasure: %w", mapErr(err))
	}
	return out, joined, nil
}

// GetErasure implements ports.ErasureJobs.
func (s *Store) GetErasure(ctx context.Context, org domain.OrgID, id domain.ErasureID) (domain.Erasure, error) {
	if !domain.ValidID(string(id)) {
		return domain.Erasure{}, fmt.Errorf("pgstore: get erasure %s: %w", id, domain.ErrNotFound)
	}
	var e domain.Erasure
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		var err error
		if e, err = scanErasure(tx.QueryRowxContext(ctx, `SELECT `+erasureCols+` FROM erasure_jobs WHERE id = $1`, id)); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT store, n FROM erasure_counts WHERE erasure_id = $1`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		e.Counts = map[string]int64{}
		for rows.Next() {
			var (
				store string
				n     int64
			)
			if err := rows.Scan(&store, &n); err != nil {
				return err
			}
			e.Counts[store] = n
		}
		return rows.Err()
	})
	if err != nil {
		return domain.Erasure{}, fmt.Errorf("pgstore: get erasure %s: %w", id, mapErr(err))
	}
	return e, nil
}

// SaveErasure implements ports.ErasureJobs.
func (s *Store) SaveErasure(ctx context.Context, e domain.Erasure) error {
	var finished any
	if !e.FinishedAt.IsZero() {
		finished = e.FinishedAt.UTC()
	}
	err := s.inTx(ctx, e.OrgID, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE erasure_jobs SET status = $1, user_id = $2, attempts = $3, last_error = $4, updated_at = $5, finished_at = $6
			WHERE id = $7`, e.Status, e.UserID, e.Attempts, e.LastError, e.UpdatedAt.UTC(), finished, e.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return domain.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: save erasure %s: %w", e.ID, mapErr(err))
	}
	return nil
}

// AddErasureCounts implements ports.ErasureJobs.
func (s *Store) AddErasureCounts(ctx context.Context, org domain.OrgID, id domain.ErasureID, counts map[string]int64) error {
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		for store, n := range counts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO erasure_counts (org_id, erasure_id, store, n) VALUES ($1, $2, $3, $4)
				ON CONFLICT (erasure_id, store) DO UPDATE SET n = erasure_counts.n + EXCLUDED.n`, org, id, store, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: count erasure %s: %w", id, mapErr(err))
	}
	return nil
}

// UnfinishedErasures implements ports.ErasureJobs: erasure_queue names the
// jobs across orgs, each is read under its own org.
func (s *Store) UnfinishedErasures(ctx context.Context, limit int) ([]domain.Erasure, error) {
	var queued []struct {
		ID  domain.ErasureID `db:"erasure_id"`
		Org domain.OrgID     `db:"org_id"`
	}
	if err := s.db.SelectContext(ctx, &queued, `SELECT erasure_id, org_id FROM erasure_queue ORDER BY erasure_id LIMIT $1`, limit); err != nil {
		return nil, fmt.Errorf("pgstore: unfinished erasures: %w", mapErr(err))
	}
	out := make([]domain.Erasure, 0, len(queued))
	for _, q := range queued {
		e, err := s.GetErasure(ctx, q.Org, q.ID)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		case e.Status != domain.ErasureDone:
			out = append(out, e)
		}
	}
	return out, nil
}

func scanErasure(row *sqlx.Row) (domain.Erasure, error) {
	var (
		e        domain.Erasure
		finished sql.NullTime
	)
	err := row.Scan(&e.ID, &e.OrgID, &e.UserID, &e.OrgWide, &e.SubjectHash, &e.RequestedBy, &e.Status, &e.Attempts, &e.LastError,
		&e.CreatedAt, &e.UpdatedAt, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return e, domain.ErrNotFound
	}
	if err != nil {
		return e, err
	}
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	if finished.Valid {
		e.FinishedAt = finished.Time.UTC()
	}
	return e, nil
}
