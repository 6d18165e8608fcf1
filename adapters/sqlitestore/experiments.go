package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.ExperimentStore = (*Store)(nil)

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

func decodeVariants(s string) ([]domain.Variant, error) {
	var in []variantJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode variants: %w", err)
	}
	out := make([]domain.Variant, len(in))
	for i, v := range in {
		out[i] = domain.Variant{Name: v.Name, Weight: v.Weight, Params: v.Params.params()}
	}
	return out, nil
}

const experimentCols = `id, org_id, name, description, status, variants, created_by, created_at, updated_at, started_at, ended_at`

// optNanos stores a zero time as NULL.
func optNanos(t interface{ IsZero() bool }, n int64) any {
	if t.IsZero() {
		return nil
	}
	return n
}

func experimentArgs(e domain.Experiment) ([]any, error) {
	vs, err := encodeVariants(e.Variants)
	if err != nil {
		return nil, err
	}
	return []any{string(e.ID), string(e.OrgID), e.Name, e.Description, string(e.Status), vs, string(e.CreatedBy),
		toNanos(e.CreatedAt), toNanos(e.UpdatedAt), optNanos(e.StartedAt, toNanos(e.StartedAt)), optNanos(e.EndedAt, toNanos(e.EndedAt))}, nil
}

func scanExperiment(sc scanner) (domain.Experiment, error) {
	var (
		e                             domain.Experiment
		id, org, status, variants, by string
		created, updated              int64
		started, ended                sql.NullInt64
	)
	if err := sc.Scan(&id, &org, &e.Name, &e.Description, &status, &variants, &by, &created, &updated, &started, &ended); err != nil {
		return e, err
	}
	vs, err := decodeVariants(variants)
	if err != nil {
		return e, err
	}
	e.ID, e.OrgID, e.Status, e.Variants, e.CreatedBy = domain.ExperimentID(id), domain.OrgID(org), domain.ExperimentStatus(status), vs, domain.UserID(by)
	e.CreatedAt, e.UpdatedAt = fromNanos(created), fromNanos(updated)
	if started.Valid {
		e.StartedAt = fromNanos(started.Int64)
	}
	if ended.Valid {
		e.EndedAt = fromNanos(ended.Int64)
	}
	return e, nil
}

// querier is what both a pool and a transaction offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func loadHistory(ctx context.Context, q querier, e *domain.Experiment) error {
	rows, err := q.QueryContext(ctx, `SELECT from_status, to_status, actor, reason, at FROM experiment_history WHERE experiment_id = ? ORDER BY seq`, string(e.ID))
	if err != nil {
		return err
	}
	defer rows.Close()
	e.History = nil
	for rows.Next() {
		var (
			c               domain.StatusChange
			from, to, actor string
			at              int64
		)
		if err := rows.Scan(&from, &to, &actor, &c.Reason, &at); err != nil {
			return err
		}
		c.From, c.To, c.Actor, c.At = domain.ExperimentStatus(from), domain.ExperimentStatus(to), domain.UserID(actor), fromNanos(at)
		e.History = append(e.History, c)
	}
	return rows.Err()
}

func insertHistory(ctx context.Context, tx *sql.Tx, e domain.Experiment, from int) error {
	for _, c := range e.History[from:] {
		if _, err := tx.ExecContext(ctx, `INSERT INTO experiment_history (org_id, experiment_id, from_status, to_status, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			string(e.OrgID), string(e.ID), string(c.From), string(c.To), string(c.Actor), c.Reason, toNanos(c.At)); err != nil {
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
		return domain.Experiment{}, fmt.Errorf("sqlitestore: create experiment: %w", err)
	}
	args, err := experimentArgs(e)
	if err != nil {
		return domain.Experiment{}, fmt.Errorf("sqlitestore: create experiment: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO experiments (`+experimentCols+`) VALUES (`+placeholders(11)+`)`, args...); err != nil {
			return mapErr(err)
		}
		return mapErr(insertHistory(ctx, tx, e, 0))
	})
	if err != nil {
		return domain.Experiment{}, fmt.Errorf("sqlitestore: create experiment %s: %w", e.ID, err)
	}
	return s.GetExperiment(ctx, org, e.ID)
}

func getExperiment(ctx context.Context, q querier, org domain.OrgID, id domain.ExperimentID) (domain.Experiment, error) {
	e, err := scanExperiment(q.QueryRowContext(ctx, `SELECT `+experimentCols+` FROM experiments WHERE id = ? AND org_id = ?`, string(id), string(org)))
	if err != nil {
		return e, mapErr(err)
	}
	return e, mapErr(loadHistory(ctx, q, &e))
}

// GetExperiment implements ports.ExperimentStore.
func (s *Store) GetExperiment(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (domain.Experiment, error) {
	e, err := getExperiment(ctx, s.r, org, id)
	if err != nil {
		return domain.Experiment{}, fmt.Errorf("sqlitestore: get experiment %s: %w", id, err)
	}
	return e, nil
}

// ListExperiments implements ports.ExperimentStore.
func (s *Store) ListExperiments(ctx context.Context, org domain.OrgID, status domain.ExperimentStatus) ([]domain.Experiment, error) {
	list, err := s.listExperiments(ctx, org, status)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list experiments: %w", err)
	}
	return list, nil
}

func (s *Store) listExperiments(ctx context.Context, org domain.OrgID, status domain.ExperimentStatus) ([]domain.Experiment, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+experimentCols+` FROM experiments WHERE org_id = ? AND (? = '' OR status = ?)
		ORDER BY created_at DESC, id DESC`, string(org), string(status), string(status))
	if err != nil {
		return nil, mapErr(err)
	}
	var out []domain.Experiment
	for rows.Next() {
		e, err := scanExperiment(rows)
		if err != nil {
			_ = rows.Close()
			return nil, mapErr(err)
		}
		out = append(out, e)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, mapErr(err)
	}
	for i := range out {
		if err := loadHistory(ctx, s.r, &out[i]); err != nil {
			return nil, mapErr(err)
		}
	}
	return out, nil
}

// UpdateExperiment implements ports.ExperimentStore. The single write
// connection already serialises writers, which is the row lock here.
func (s *Store) UpdateExperiment(ctx context.Context, org domain.OrgID, id domain.ExperimentID, fn func(*domain.Experiment) error) (domain.Experiment, error) {
	var out domain.Experiment
	err := s.write(ctx, func(tx *sql.Tx) error {
		e, err := getExperiment(ctx, tx, org, id)
		if err != nil {
			return err
		}
		orig := e
		orig.History = append([]domain.StatusChange(nil), e.History...)
		e.Variants = append([]domain.Variant(nil), e.Variants...)
		if err := fn(&e); err != nil {
			return fnError{err}
		}
		if len(e.History) < len(orig.History) {
			return domain.Invalid("history", "entries cannot be removed")
		}
		e.ID, e.OrgID, e.CreatedBy, e.CreatedAt = orig.ID, orig.OrgID, orig.CreatedBy, orig.CreatedAt
		copy(e.History, orig.History)
		if err := checkExperiment(org, e); err != nil {
			return err
		}
		args, err := experimentArgs(e)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE experiments SET name = ?, description = ?, status = ?, variants = ?,
			updated_at = ?, started_at = ?, ended_at = ? WHERE id = ? AND org_id = ?`,
			args[2], args[3], args[4], args[5], args[8], args[9], args[10], string(id), string(org)); err != nil {
			return mapErr(err)
		}
		if err := insertHistory(ctx, tx, e, len(orig.History)); err != nil {
			return mapErr(err)
		}
		out = e
		return nil
	})
	if err != nil {
		var fe fnError
		if errors.As(err, &fe) {
			return domain.Experiment{}, fe.err
		}
		return domain.Experiment{}, fmt.Errorf("sqlitestore: update experiment %s: %w", id, err)
	}
	return out, nil
}

// RunningExperiment implements ports.ExperimentStore.
func (s *Store) RunningExperiment(ctx context.Context, org domain.OrgID) (domain.Experiment, error) {
	var id string
	err := s.r.QueryRowContext(ctx, `SELECT id FROM experiments WHERE org_id = ? AND status = 'running'`, string(org)).Scan(&id)
	if err != nil {
		return domain.Experiment{}, fmt.Errorf("sqlitestore: running experiment: %w", mapErr(err))
	}
	return s.GetExperiment(ctx, org, domain.ExperimentID(id))
}
