package domain

import (
	"math"
	"regexp"
	"strings"
	"time"
)

// ExperimentID is a UUIDv7 naming one experiment.
type ExperimentID string

// NewExperimentID returns a fresh experiment id.
func NewExperimentID(now time.Time) ExperimentID { return ExperimentID(NewID(now)) }

// ParseExperimentID validates an id taken from a request.
func ParseExperimentID(s string) (ExperimentID, error) {
	if !ValidID(s) {
		return "", Invalid("experiment_id", "must be a lower-case UUID")
	}
	return ExperimentID(s), nil
}

// ExperimentStatus is where an experiment is in its life.
type ExperimentStatus string

// The statuses: draft → running ⇄ paused → completed; anything not yet
// finished may be cancelled. Completed and cancelled are final.
const (
	ExperimentDraft     ExperimentStatus = "draft"
	ExperimentRunning   ExperimentStatus = "running"
	ExperimentPaused    ExperimentStatus = "paused"
	ExperimentCompleted ExperimentStatus = "completed"
	ExperimentCancelled ExperimentStatus = "cancelled"
)

// ParseExperimentStatus validates a status name.
func ParseExperimentStatus(s string) (ExperimentStatus, error) {
	switch st := ExperimentStatus(s); st {
	case ExperimentDraft, ExperimentRunning, ExperimentPaused, ExperimentCompleted, ExperimentCancelled:
		return st, nil
	}
	return "", Invalid("status", "must be one of draft, running, paused, completed, cancelled")
}

// Final reports whether nothing may change the experiment any more.
func (s ExperimentStatus) Final() bool {
	return s == ExperimentCompleted || s == ExperimentCancelled
}

// ExperimentAction is an operator's command; each moves the status along one
// edge of the machine.
type ExperimentAction string

// The actions, as the API names them (POST /experiments/{id}/{action}).
const (
	ActionStart    ExperimentAction = "start"
	ActionPause    ExperimentAction = "pause"
	ActionResume   ExperimentAction = "resume"
	ActionComplete ExperimentAction = "complete"
	ActionCancel   ExperimentAction = "cancel"
)

// transitions maps an action to the statuses it may leave and the one it
// enters. Resume is start's twin from paused; keeping them apart makes the
// history say what the operator meant.
var transitions = map[ExperimentAction]struct {
	from []ExperimentStatus
	to   ExperimentStatus
}{
	ActionStart:    {[]ExperimentStatus{ExperimentDraft}, ExperimentRunning},
	ActionPause:    {[]ExperimentStatus{ExperimentRunning}, ExperimentPaused},
	ActionResume:   {[]ExperimentStatus{ExperimentPaused}, ExperimentRunning},
	ActionComplete: {[]ExperimentStatus{ExperimentRunning, ExperimentPaused}, ExperimentCompleted},
	ActionCancel:   {[]ExperimentStatus{ExperimentDraft, ExperimentRunning, ExperimentPaused}, ExperimentCancelled},
}

// ParseExperimentAction validates an action name.
func ParseExperimentAction(s string) (ExperimentAction, error) {
	if _, ok := transitions[ExperimentAction(s)]; ok {
		return ExperimentAction(s), nil
	}
	return "", Invalid("action", "must be one of start, pause, resume, complete, cancel")
}

// StatusChange is one entry of an experiment's status history.
type StatusChange struct {
	From   ExperimentStatus // empty for the creation entry
	To     ExperimentStatus
	Actor  UserID
	Reason string
	At     time.Time
}

// Variant is one arm of an experiment: a share of the traffic and the search
// parameters its users get. Weights are relative; only their ratio matters.
type Variant struct {
	Name   string
	Weight float64
	Params SearchParams
}

// Experiment is an A/B test of search parameters within one org. The first
// variant is the control every other one is compared against.
type Experiment struct {
	ID          ExperimentID
	OrgID       OrgID
	Name        string
	Description string
	Status      ExperimentStatus
	Variants    []Variant
	CreatedBy   UserID
	CreatedAt   time.Time
	UpdatedAt   time.Time
	StartedAt   time.Time // first start; zero while draft
	EndedAt     time.Time // completion or cancellation; zero until then
	History     []StatusChange
}

// Experiment limits.
const (
	MaxExperimentName        = 200
	MaxExperimentDescription = 4000
	MaxVariants              = 10
	MaxStatusReason          = 500
)

var variantName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewExperiment builds a draft with its creation entry in the history.
func NewExperiment(org OrgID, actor UserID, name, description string, variants []Variant, now time.Time) (Experiment, error) {
	e := Experiment{
		ID: NewExperimentID(now), OrgID: org, Name: strings.TrimSpace(name),
		Description: strings.TrimSpace(description), Status: ExperimentDraft,
		Variants: variants, CreatedBy: actor, CreatedAt: now, UpdatedAt: now,
		History: []StatusChange{{To: ExperimentDraft, Actor: actor, Reason: "created", At: now}},
	}
	return e, e.Validate()
}

// Validate checks names, sizes and variants.
func (e Experiment) Validate() error {
	if e.Name == "" || len(e.Name) > MaxExperimentName {
		return Invalid("name", "must be 1-%d bytes", MaxExperimentName)
	}
	if len(e.Description) > MaxExperimentDescription {
		return Invalid("description", "must be at most %d bytes", MaxExperimentDescription)
	}
	if _, err := ParseExperimentStatus(string(e.Status)); err != nil {
		return err
	}
	return ValidateVariants(e.Variants)
}

// ValidateVariants needs 2..MaxVariants uniquely named variants with finite,
// non-negative weights summing to a positive number, and valid parameters.
func ValidateVariants(vs []Variant) error {
	if len(vs) < 2 || len(vs) > MaxVariants {
		return Invalid("variants", "must list 2-%d variants", MaxVariants)
	}
	seen := make(map[string]bool, len(vs))
	sum := 0.0
	for _, v := range vs {
		if !variantName.MatchString(v.Name) {
			return Invalid("variants.name", "%q must be 1-64 characters of letters, digits and ._-", v.Name)
		}
		if seen[v.Name] {
			return Invalid("variants.name", "%q is used twice", v.Name)
		}
		seen[v.Name] = true
		if math.IsNaN(v.Weight) || math.IsInf(v.Weight, 0) || v.Weight < 0 {
			return Invalid("variants.weight", "of %q must be a finite number >= 0", v.Name)
		}
		sum += v.Weight
		if err := v.Params.Validate(); err != nil {
			return Invalid("variants.params", "of %q: %v", v.Name, err)
		}
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return Invalid("variants.weight", "must sum to a positive number")
	}
	return nil
}

// Apply performs action as actor, appending to the history. An action the
// current status does not allow wraps ErrConflict and changes nothing.
func (e *Experiment) Apply(action ExperimentAction, actor UserID, reason string, now time.Time) error {
	tr, ok := transitions[action]
	if !ok {
		return Invalid("action", "must be one of start, pause, resume, complete, cancel")
	}
	if len(reason) > MaxStatusReason {
		return Invalid("reason", "must be at most %d bytes", MaxStatusReason)
	}
	allowed := false
	for _, f := range tr.from {
		allowed = allowed || f == e.Status
	}
	if !allowed {
		return &TransitionError{Action: action, From: e.Status}
	}
	e.History = append(e.History, StatusChange{From: e.Status, To: tr.to, Actor: actor, Reason: strings.TrimSpace(reason), At: now})
	e.Status = tr.to
	e.UpdatedAt = now
	if tr.to == ExperimentRunning && e.StartedAt.IsZero() {
		e.StartedAt = now
	}
	if tr.to.Final() {
		e.EndedAt = now
	}
	return nil
}

// TransitionError is an action the experiment's status forbids. It unwraps
// to ErrConflict.
type TransitionError struct {
	Action ExperimentAction
	From   ExperimentStatus
}

func (e *TransitionError) Error() string {
	return "cannot " + string(e.Action) + " an experiment that is " + string(e.From)
}

func (e *TransitionError) Unwrap() error { return ErrConflict }

// VariantByName returns the named variant.
func (e Experiment) VariantByName(name string) (Variant, bool) {
	for _, v := range e.Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}
