package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/engram-memory/engram/domain"
)

// Assign implements ports.ExperimentStore: INSERT OR IGNORE against the
// (experiment, user) primary key, then read back whichever row won.
func (s *Store) Assign(ctx context.Context, org domain.OrgID, a domain.Assignment) (domain.Assignment, error) {
	if err := (domain.Tenant{OrgID: org, UserID: a.UserID}).Validate(); err != nil {
		return domain.Assignment{}, fmt.Errorf("sqlitestore: assign: %w", err)
	}
	var out domain.Assignment
	err := s.write(ctx, func(tx *sql.Tx) error {
		e, err := getExperiment(ctx, tx, org, a.ExperimentID)
		if err != nil {
			return err
		}
		if _, ok := e.VariantByName(a.Variant); !ok {
			return domain.Invalid("variant", "experiment %s has no variant %q", a.ExperimentID, a.Variant)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO experiment_assignments (org_id, experiment_id, user_id, variant, assigned_at)
			VALUES (?, ?, ?, ?, ?)`, string(org), string(a.ExperimentID), string(a.UserID), a.Variant, toNanos(a.AssignedAt)); err != nil {
			return mapErr(err)
		}
		out, err = getAssignment(ctx, tx, org, a.ExperimentID, a.UserID)
		return err
	})
	if err != nil {
		return domain.Assignment{}, fmt.Errorf("sqlitestore: assign %s in %s: %w", a.UserID, a.ExperimentID, err)
	}
	return out, nil
}

func getAssignment(ctx context.Context, q querier, org domain.OrgID, id domain.ExperimentID, user domain.UserID) (domain.Assignment, error) {
	a := domain.Assignment{ExperimentID: id, UserID: user}
	var at int64
	err := q.QueryRowContext(ctx, `SELECT variant, assigned_at FROM experiment_assignments WHERE org_id = ? AND experiment_id = ? AND user_id = ?`,
		string(org), string(id), string(user)).Scan(&a.Variant, &at)
	if err != nil {
		return domain.Assignment{}, mapErr(err)
	}
	a.AssignedAt = fromNanos(at)
	return a, nil
}

// GetAssignment implements ports.ExperimentStore.
func (s *Store) GetAssignment(ctx context.Context, org domain.OrgID, id domain.ExperimentID, user domain.UserID) (domain.Assignment, error) {
	a, err := getAssignment(ctx, s.r, org, id, user)
	if err != nil {
		return domain.Assignment{}, fmt.Errorf("sqlitestore: get assignment of %s in %s: %w", user, id, err)
	}
	return a, nil
}

// AssignmentCounts implements ports.ExperimentStore.
func (s *Store) AssignmentCounts(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (map[string]int, error) {
	out, err := countBy(ctx, s.r, `SELECT variant, count(*) FROM experiment_assignments WHERE org_id = ? AND experiment_id = ? GROUP BY variant`, string(org), string(id))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: assignment counts of %s: %w", id, err)
	}
	return out, nil
}

// EraseAssignments implements ports.ExperimentStore.
func (s *Store) EraseAssignments(ctx context.Context, t domain.Tenant) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM experiment_assignments WHERE org_id = ? AND user_id = ?`, string(t.OrgID), string(t.UserID))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: erase assignments of %s/%s: %w", t.OrgID, t.UserID, err)
	}
	return nil
}
