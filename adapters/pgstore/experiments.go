package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.ExperimentStore = (*Store)(nil)

// notFound turns "no row" into domain.ErrNotFound; mapErr leaves other
// errors to be classified.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domain.ErrNotFound
	}
	return err
}

// variantJSON is the stored shape of a domain.Variant.
type variantJSON struct {
	Name   string           `json:"name"`
	Weight float64          `json:"weight"`
	Params searchParamsJSON `json:"params"`
}

func encodeVariants(vs []domain.Variant) (string, error) {
	out := make([]variantJSON, len(vs))
	for i, v := range vs {
		out[i] = variantJSON{Name: v.Name, Weight: v.Weight, Params: paramsToJSON(v.Params)}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeVariants(b []byte) ([]domain.Variant, error) {
	var in []variantJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("decode variants: %w", err)
	}
	out := make([]domain.Variant, len(in))
	for i, v := range in {
		out[i] = domain.Variant{Name: v.Name, Weight: v.Weight, Params: v.Params.params()}
	}
	return out, nil
}

const experimentCols = `id::text, org_id, name, description, status, variants, created_by, created_at, updated_at, started_at, ended_at`

func scanExperiment(sc rowScanner) (domain.Experiment, error) {
	var (
		e              domain.Experiment
		variants       []byte
		started, ended sql.NullTime
	)
	if err := sc.Scan(&e.ID, &e.OrgID, &e.Name, &e.Description, &e.Status, &variants, &e.CreatedBy,
		&e.CreatedAt, &e.UpdatedAt, &started, &ended); err != nil {
		return e, err
	}
	vs, err := decodeVariants(variants)
	if err != nil {
		return e, err
	}
	e.Variants, e.CreatedAt, e.UpdatedAt = vs, e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	if started.Valid {
		e.StartedAt = started.Time.UTC()
	}
	if ended.Valid {
		e.EndedAt = ended.Time.UTC()
	}
	return e, nil
}

// optTime stores a zero time as NULL.
func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func loadHistory(ctx context.Context, tx *sqlx.Tx, e *domain.Experiment) error {
	rows, err := tx.QueryContext(ctx, `SELECT from_status, to_status, actor, reason, at FROM experiment_history
		WHERE org_id = $1 AND experiment_id = $2 ORDER BY seq`, string(e.OrgID), string(e.ID))
	if err != nil {
		return err
	}
	defer rows.Close()
	e.History = nil
	for rows.Next() {
		var c domain.StatusChange
		if err := rows.Scan(&c.From, &c.To, &c.Actor, &c.Reason, &c.At); err != nil {
			return err
		}
		c.At = c.At.UTC()
		e.History = append(e.History, c)
	}
	return rows.Err()
}

func insertHistory(ctx context.Context, tx *sqlx.Tx, e domain.Experiment, from int) error {
	for _, c := range e.History[from:] {
		if _, err := tx.ExecContext(ctx, `INSERT INTO experiment_history (org_id, experiment_id, from_status, to_status, actor, reason, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, string(e.OrgID), string(e.ID), string(c.From), string(c.To), string(c.Actor), c.Reason, c.At.UTC()); err != nil {
			return err
		}
	}
	return nil
}

func checkExperiment(org domain.OrgID, e domain.Experiment) error {
	if e.OrgID != org {
		return domain.Invalid("org_id", "the experiment belongs to another org")
	}
	if !domain.ValidID(string(e.ID)) {
		return domain.Invalid("id", "must be a lower-case UUID")
	}
	return e.Validate()
}

// CreateExperiment implements ports.ExperimentStore.
func (s *Store) CreateExperiment(ctx context.Context, org domain.OrgID, e domain.Experiment) (domain.Experiment, error) {
	if err := checkExperiment(org, e); err != nil {
		return domain.Experiment{}, fmt.Errorf("pgstore: create experiment: %w", err)
	}
	vs, err := encodeVariants(e.Variants)
	if err != nil {
		return domain.Experiment{}, fmt.Errorf("pgstore: create experiment: %w", err)
	}
	var out domain.Experiment
	err = s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO experiments (id, org_id, name, description, status, variants, created_by, created_at, updated_at, started_at, ended_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
			string(e.ID), string(org), e.Name, e.Description, string(e.Status), vs, string(e.CreatedBy),
			e.CreatedAt.UTC(), e.UpdatedAt.UTC(), optTime(e.StartedAt), optTime(e.EndedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return domain.ErrAlreadyExists
		}
		if err := insertHistory(ctx, tx, e, 0); err != nil {
			return err
		}
		out, err = getExperiment(ctx, tx, org, e.ID, false)
		return err
	})
	if err != nil {
		return domain.Experiment{}, fmt.Errorf("pgstore: create experiment %s: %w", e.ID, mapErr(err))
	}
	return out, nil
}

func getExperiment(ctx context.Context, tx *sqlx.Tx, org domain.OrgID, id domain.ExperimentID, lock bool) (domain.Experiment, error) {
	if !domain.ValidID(string(id)) {
		return domain.Experiment{}, domain.ErrNotFound
	}
	q := `SELECT ` + experimentCols + ` FROM experiments WHERE id = $1 AND org_id = $2`
	if lock {
		q += ` FOR UPDATE`
	}
	e, err := scanExperiment(tx.QueryRowContext(ctx, q, string(id), string(org)))
	if err != nil {
		return e, notFound(err)
	}
	return e, loadHistory(ctx, tx, &e)
}

// GetExperiment implements ports.ExperimentStore.
func (s *Store) GetExperiment(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (domain.Experiment, error) {
	var e domain.Experiment
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		var err error
		e, err = getExperiment(ctx, tx, org, id, false)
		return err
	})
	if err != nil {
		return domain.Experiment{}, fmt.Errorf("pgstore: get experiment %s: %w", id, mapErr(err))
	}
	return e, nil
}

// ListExperiments implements ports.ExperimentStore.
func (s *Store) ListExperiments(ctx context.Context, org domain.OrgID, status domain.ExperimentStatus) ([]domain.Experiment, error) {
	var out []domain.Experiment
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+experimentCols+` FROM experiments WHERE org_id = $1 AND ($2 = '' OR status = $2)
			ORDER BY created_at DESC, id DESC`, string(org), string(status))
		if err != nil {
			return err
		}
		for rows.Next() {
			e, err := scanExperiment(rows)
			if err != nil {
				_ = rows.Close()
				return err
			}
			out = append(out, e)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for i := range out {
			if err := loadHistory(ctx, tx, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: list experiments: %w", mapErr(err))
	}
	return out, nil
}

// UpdateExperiment implements ports.ExperimentStore under SELECT ... FOR
// UPDATE. The partial unique index on running experiments turns a second
// running one into a unique violation, which mapErr reports as a conflict.
func (s *Store) UpdateExperiment(ctx context.Context, org domain.OrgID, id domain.ExperimentID, fn func(*domain.Experiment) error) (domain.Experiment, error) {
	var out domain.Experiment
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		e, err := getExperiment(ctx, tx, org, id, true)
		if err != nil {
			return err
		}
		orig := e
		orig.History = append([]domain.StatusChange(nil), e.History...)
		if err := fn(&e); err != nil {
			return callerError{err}
		}
		if len(e.History) < len(orig.History) {
			return domain.Invalid("history", "entries cannot be removed")
		}
		e.ID, e.OrgID, e.CreatedBy, e.CreatedAt = orig.ID, orig.OrgID, orig.CreatedBy, orig.CreatedAt
		copy(e.History, orig.History)
		if err := checkExperiment(org, e); err != nil {
			return err
		}
		vs, err := encodeVariants(e.Variants)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE experiments SET name = $3, description = $4, status = $5, variants = $6,
			updated_at = $7, started_at = $8, ended_at = $9 WHERE id = $1 AND org_id = $2`,
			string(id), string(org), e.Name, e.Description, string(e.Status), vs, e.UpdatedAt.UTC(), optTime(e.StartedAt), optTime(e.EndedAt)); err != nil {
			return err
		}
		if err := insertHistory(ctx, tx, e, len(orig.History)); err != nil {
			return err
		}
		out = e
		return nil
	})
	if err != nil {
		var ce callerError
		if errors.As(err, &ce) {
			return domain.Experiment{}, ce.err
		}
		return domain.Experiment{}, fmt.Errorf("pgstore: update experiment %s: %w", id, mapErr(err))
	}
	return out, nil
}

// RunningExperiment implements ports.ExperimentStore.
func (s *Store) RunningExperiment(ctx context.Context, org domain.OrgID) (domain.Experiment, error) {
	var e domain.Experiment
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		var err error
		e, err = scanExperiment(tx.QueryRowContext(ctx, `SELECT `+experimentCols+` FROM experiments WHERE org_id = $1 AND status = 'running'`, string(org)))
		if err != nil {
			return notFound(err)
		}
		return loadHistory(ctx, tx, &e)
	})
	if err != nil {
		return domain.Experiment{}, fmt.Errorf("pgstore: running experiment: %w", mapErr(err))
	}
	return e, nil
}
