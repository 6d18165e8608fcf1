package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ExperimentDeps are the ports ExperimentService needs.
type ExperimentDeps struct {
	Experiments ports.ExperimentStore
	Feedback    ports.FeedbackStore
	Queries     ports.QueryLog
	Clock       ports.Clock
	Logger      *slog.Logger
}

// ExperimentService runs A/B experiments on search parameters: CRUD,
// the status machine, sticky assignment and per-variant results.
type ExperimentService struct {
	d     ExperimentDeps
	cache runningCache
}

// NewExperimentService checks deps and returns the service.
func NewExperimentService(d ExperimentDeps) *ExperimentService {
	if d.Experiments == nil || d.Feedback == nil || d.Queries == nil {
		panic("app: ExperimentDeps needs Experiments, Feedback and Queries")
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &ExperimentService{d: d}
}

// ExperimentInput is a new experiment as an operator describes it.
type ExperimentInput struct {
	Name        string
	Description string
	Variants    []domain.Variant
}

// Create stores a draft experiment.
func (s *ExperimentService) Create(ctx context.Context, p domain.Principal, in ExperimentInput) (domain.Experiment, error) {
	if err := p.Require(domain.ScopeExperimentsWrite); err != nil {
		return domain.Experiment{}, err
	}
	e, err := domain.NewExperiment(p.OrgID, p.UserID, in.Name, in.Description, in.Variants, s.d.Clock.Now().UTC())
	if err != nil {
		return domain.Experiment{}, err
	}
	return s.d.Experiments.CreateExperiment(ctx, p.OrgID, e)
}

// Get returns one experiment of the caller's org with its history.
func (s *ExperimentService) Get(ctx context.Context, p domain.Principal, id domain.ExperimentID) (domain.Experiment, error) {
	if err := p.Require(domain.ScopeExperimentsRead); err != nil {
		return domain.Experiment{}, err
	}
	return s.d.Experiments.GetExperiment(ctx, p.OrgID, id)
}

// List returns the org's experiments, newest first, optionally by status.
func (s *ExperimentService) List(ctx context.Context, p domain.Principal, status domain.ExperimentStatus) ([]domain.Experiment, error) {
	if err := p.Require(domain.ScopeExperimentsRead); err != nil {
		return nil, err
	}
	if status != "" {
		if _, err := domain.ParseExperimentStatus(string(status)); err != nil {
			return nil, err
		}
	}
	return s.d.Experiments.ListExperiments(ctx, p.OrgID, status)
}

// ExperimentPatch carries the fields an operator may change; nil keeps.
type ExperimentPatch struct {
	Name        *string
	Description *string
	Variants    *[]domain.Variant
}

// Update edits an experiment. A finished one cannot change (ErrConflict).
// Variants may be replaced freely in draft; once started only their weights
// may change — names and parameters are what the results are about — and
// users already assigned keep their variant whatever the new weights.
func (s *ExperimentService) Update(ctx context.Context, p domain.Principal, id domain.ExperimentID, patch ExperimentPatch) (domain.Experiment, error) {
	if err := p.Require(domain.ScopeExperimentsWrite); err != nil {
		return domain.Experiment{}, err
	}
	if patch.Name == nil && patch.Description == nil && patch.Variants == nil {
		return domain.Experiment{}, domain.Invalid("body", "names no field to change (name, description, variants)")
	}
	if patch.Variants != nil {
		if err := domain.ValidateVariants(*patch.Variants); err != nil {
			return domain.Experiment{}, err
		}
	}
	now := s.d.Clock.Now().UTC()
	defer s.forget(p.OrgID) // new weights reach this server's next search
	return s.d.Experiments.UpdateExperiment(ctx, p.OrgID, id, func(e *domain.Experiment) error {
		if e.Status.Final() {
			return &domain.TransitionError{Action: "update", From: e.Status}
		}
		if patch.Name != nil {
			e.Name = *patch.Name
		}
		if patch.Description != nil {
			e.Description = *patch.Description
		}
		if patch.Variants != nil {
			if e.Status != domain.ExperimentDraft && !sameArms(e.Variants, *patch.Variants) {
				return conflict("variants of a started experiment may change weight only")
			}
			e.Variants = *patch.Variants
		}
		e.UpdatedAt = now
		return e.Validate()
	})
}

// ConflictError is a change an experiment's state refuses that is not a
// status transition; Reason is meant for the client. It unwraps to
// domain.ErrConflict.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string { return e.Reason }

// Unwrap makes errors.Is(err, domain.ErrConflict) hold.
func (e *ConflictError) Unwrap() error { return domain.ErrConflict }

func conflict(reason string) error { return &ConflictError{Reason: reason} }

// sameArms reports whether two variant lists differ in weights at most.
func sameArms(a, b []domain.Variant) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Params != b[i].Params {
			return false
		}
	}
	return true
}

// Act moves the experiment along its status machine (start, pause, resume,
// complete, cancel), recording the caller and reason in the history. An
// action the status forbids wraps domain.ErrConflict; starting or resuming
// while another experiment of the org runs does too.
func (s *ExperimentService) Act(ctx context.Context, p domain.Principal, id domain.ExperimentID, action domain.ExperimentAction, reason string) (domain.Experiment, error) {
	if err := p.Require(domain.ScopeExperimentsWrite); err != nil {
		return domain.Experiment{}, err
	}
	if _, err := domain.ParseExperimentAction(string(action)); err != nil {
		return domain.Experiment{}, err
	}
	now := s.d.Clock.Now().UTC()
	e, err := s.d.Experiments.UpdateExperiment(ctx, p.OrgID, id, func(e *domain.Experiment) error {
		return e.Apply(action, p.UserID, reason, now)
	})
	s.forget(p.OrgID)
	var te *domain.TransitionError
	if err != nil && !errors.As(err, &te) && errors.Is(err, domain.ErrConflict) {
		return domain.Experiment{}, conflict("another experiment of this org is running; pause or complete it first")
	}
	return e, err
}

// Assignment returns the caller's variant. While the experiment runs, the
// first call assigns (sticky from then on); otherwise only an existing
// assignment is returned, else domain.ErrNotFound.
func (s *ExperimentService) Assignment(ctx context.Context, p domain.Principal, id domain.ExperimentID) (domain.Assignment, error) {
	if err := p.Require(domain.ScopeExperimentsRead); err != nil {
		return domain.Assignment{}, err
	}
	e, err := s.d.Experiments.GetExperiment(ctx, p.OrgID, id)
	if err != nil {
		return domain.Assignment{}, err
	}
	if e.Status == domain.ExperimentRunning {
		return s.assign(ctx, p, e)
	}
	return s.d.Experiments.GetAssignment(ctx, p.OrgID, id, p.UserID)
}

func (s *ExperimentService) assign(ctx context.Context, p domain.Principal, e domain.Experiment) (domain.Assignment, error) {
	return s.d.Experiments.Assign(ctx, p.OrgID, domain.Assignment{
		ExperimentID: e.ID, UserID: p.UserID, Variant: domain.AssignVariant(e.ID, p.UserID, e.Variants),
		AssignedAt: s.d.Clock.Now().UTC(),
	})
}

// Results gathers per-variant statistics: assigned users, exposures
// (searches served), feedback and acceptance with a 95% Wilson interval,
// and a two-proportion z-test p-value against the control (first variant).
func (s *ExperimentService) Results(ctx context.Context, p domain.Principal, id domain.ExperimentID) (domain.ExperimentResults, error) {
	if err := p.Require(domain.ScopeExperimentsRead); err != nil {
		return domain.ExperimentResults{}, err
	}
	e, err := s.d.Experiments.GetExperiment(ctx, p.OrgID, id)
	if err != nil {
		return domain.ExperimentResults{}, err
	}
	users, err := s.d.Experiments.AssignmentCounts(ctx, p.OrgID, id)
	if err != nil {
		return domain.ExperimentResults{}, err
	}
	exposures, err := s.d.Queries.ExposureCounts(ctx, p.OrgID, id)
	if err != nil {
		return domain.ExperimentResults{}, err
	}
	m, err := s.d.Feedback.FeedbackMetrics(ctx, p.OrgID, domain.FeedbackFilter{ExperimentID: id})
	if err != nil {
		return domain.ExperimentResults{}, err
	}
	return domain.ComputeResults(e, users, exposures, m.ByVariant), nil
}

// SearchPlan is what a search should run with for one caller: the
// parameters of their variant when the org runs an experiment, else none.
type SearchPlan struct {
	ExperimentID domain.ExperimentID
	Variant      string
	Params       domain.SearchParams // zero fields: keep the request's
}

// PlanSearch finds the org's running experiment (cached for
// RunningCacheTTL) and the caller's sticky variant, assigning it at this
// first exposure. No running experiment is the zero plan and no error.
func (s *ExperimentService) PlanSearch(ctx context.Context, p domain.Principal) (SearchPlan, error) {
	e, ok, err := s.running(ctx, p.OrgID)
	if err != nil || !ok {
		return SearchPlan{}, err
	}
	// Read first: only a user's first exposure needs a write.
	a, err := s.d.Experiments.GetAssignment(ctx, p.OrgID, e.ID, p.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		a, err = s.assign(ctx, p, e)
	}
	if err != nil {
		return SearchPlan{}, err
	}
	v, ok := e.VariantByName(a.Variant)
	if !ok {
		return SearchPlan{}, nil // cannot happen: variants are fixed once started
	}
	return SearchPlan{ExperimentID: e.ID, Variant: v.Name, Params: v.Params}, nil
}
