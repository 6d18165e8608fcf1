package pgstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
)

// Assign implements ports.ExperimentStore: INSERT ... ON CONFLICT DO
// NOTHING against the (org, experiment, user) key, then read back whichever
// row won, in one transaction. Under READ COMMITTED the read-back sees a
// racing transaction's row once its insert waited for that one to commit.
func (s *Store) Assign(ctx context.Context, org domain.OrgID, a domain.Assignment) (domain.Assignment, error) {
	if err := (domain.Tenant{OrgID: org, UserID: a.UserID}).Validate(); err != nil {
		return domain.Assignment{}, fmt.Errorf("pgstore: assign: %w", err)
	}
	var out domain.Assignment
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		e, err := getExperiment(ctx, tx, org, a.ExperimentID, false)
		if err != nil {
			return err
		}
		if _, ok := e.VariantByName(a.Variant); !ok {
			return domain.Invalid("variant", "experiment %s has no variant %q", a.ExperimentID, a.Variant)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO experiment_assignments (org_id, experiment_id, user_id, variant, assigned_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, string(org), string(a.ExperimentID), string(a.UserID), a.Variant, a.AssignedAt.UTC()); err != nil {
			return err
		}
		out, err = getAssignment(ctx, tx, org, a.ExperimentID, a.UserID)
		return err
	})
	if err != nil {
		return domain.Assignment{}, fmt.Errorf("pgstore: assign %s in %s: %w", a.UserID, a.ExperimentID, mapErr(err))
	}
	return out, nil
}

func getAssignment(ctx context.Context, tx *sqlx.Tx, org domain.OrgID, id domain.ExperimentID, user domain.UserID) (domain.Assignment, error) {
	if !domain.ValidID(string(id)) {
		return domain.Assignment{}, domain.ErrNotFound
	}
	a := domain.Assignment{ExperimentID: id, UserID: user}
	err := tx.QueryRowContext(ctx, `SELECT variant, assigned_at FROM experiment_assignments WHERE org_id = $1 AND experiment_id = $2 AND user_id = $3`,
		string(org), string(id), string(user)).Scan(&a.Variant, &a.AssignedAt)
	a.AssignedAt = a.AssignedAt.UTC()
	return a, notFound(err)
}

// GetAssignment implements ports.ExperimentStore.
func (s *Store) GetAssignment(ctx context.Context, org domain.OrgID, id domain.ExperimentID, user domain.UserID) (domain.Assignment, error) {
	var a domain.Assignment
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		var err error
		a, err = getAssignment(ctx, tx, org, id, user)
		return err
	})
	if err != nil {
		return domain.Assignment{}, fmt.Errorf("pgstore: get assignment of %s in %s: %w", user, id, mapErr(err))
	}
	return a, nil
}

// AssignmentCounts implements ports.ExperimentStore.
func (s *Store) AssignmentCounts(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (map[string]int, error) {
	out, err := s.countBy(ctx, org, `SELECT variant, count(*) FROM experiment_assignments WHERE org_id = $1 AND experiment_id = $2::uuid GROUP BY variant`, string(org), string(id))
	if err != nil {
		return nil, fmt.Errorf("pgstore: assignment counts of %s: %w", id, err)
	}
	return out, nil
}

// EraseAssignments implements ports.ExperimentStore.
func (s *Store) EraseAssignments(ctx context.Context, t domain.Tenant) error {
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM experiment_assignments WHERE org_id = $1 AND user_id = $2`, string(t.OrgID), string(t.UserID))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: erase assignments of %s/%s: %w", t.OrgID, t.UserID, mapErr(err))
	}
	return nil
}
