package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// ExperimentStore keeps an org's experiments, their status history and the
// users' sticky variant assignments.
//
// Tenancy: every method takes the org; another org's experiment is
// domain.ErrNotFound.
//
// Errors: invalid input wraps domain.ErrInvalid and writes nothing; backend
// failures wrap domain.ErrUnavailable.
type ExperimentStore interface {
	// CreateExperiment stores a new experiment of org (e.OrgID must be org)
	// with its history. An existing ID wraps domain.ErrAlreadyExists. A new
	// experiment that is already running while another one of the org runs
	// wraps domain.ErrConflict.
	CreateExperiment(ctx context.Context, org domain.OrgID, e domain.Experiment) (domain.Experiment, error)

	// GetExperiment returns the experiment with its full status history,
	// oldest entry first.
	GetExperiment(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (domain.Experiment, error)

	// ListExperiments returns the org's experiments, newest first, with
	// their history; a non-empty status keeps only experiments in it.
	ListExperiments(ctx context.Context, org domain.OrgID, status domain.ExperimentStatus) ([]domain.Experiment, error)

	// UpdateExperiment loads the experiment, lets fn change it, validates
	// and stores it, all under a row lock so concurrent updates serialise.
	// History entries fn appended are stored; existing entries, ID, org,
	// CreatedBy and CreatedAt cannot be changed. An error from fn aborts
	// with nothing written and is returned as is. At most one experiment
	// per org runs at a time: an update that would make a second one
	// running wraps domain.ErrConflict.
	UpdateExperiment(ctx context.Context, org domain.OrgID, id domain.ExperimentID, fn func(*domain.Experiment) error) (domain.Experiment, error)

	// RunningExperiment returns the org's running experiment, or
	// domain.ErrNotFound when none runs.
	RunningExperiment(ctx context.Context, org domain.OrgID) (domain.Experiment, error)

	// Assign records a's variant for its user unless the user already has
	// one in that experiment, and returns the stored assignment: the first
	// one wins, under concurrency too, so an assignment never changes.
	// An unknown experiment wraps domain.ErrNotFound.
	Assign(ctx context.Context, org domain.OrgID, a domain.Assignment) (domain.Assignment, error)

	// GetAssignment returns the user's assignment, or domain.ErrNotFound.
	GetAssignment(ctx context.Context, org domain.OrgID, id domain.ExperimentID, user domain.UserID) (domain.Assignment, error)

	// AssignmentCounts counts assigned users per variant name.
	AssignmentCounts(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (map[string]int, error)

	// EraseAssignments deletes every assignment of the tenant's user.
	EraseAssignments(ctx context.Context, t domain.Tenant) error
}
