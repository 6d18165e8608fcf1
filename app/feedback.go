package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// FeedbackDeps are the ports FeedbackService needs.
type FeedbackDeps struct {
	Feedback ports.FeedbackStore
	Queries  ports.QueryLog
	// Experiments, when set, lets EraseUser remove the user's assignments.
	Experiments ports.ExperimentStore
	Clock       ports.Clock
	// Retention is how long feedback and query logs are kept; 0 means
	// domain.DefaultFeedbackRetain.
	Retention time.Duration
	Logger    *slog.Logger
	// Guard, when set, refuses feedback and query logs of a user whose
	// erasure has started.
	Guard WriteGuard
}

// FeedbackService takes feedback on search results, checked against the
// query log, and answers questions about it.
type FeedbackService struct {
	d FeedbackDeps
}

// NewFeedbackService checks deps and returns the service.
func NewFeedbackService(d FeedbackDeps) *FeedbackService {
	if d.Feedback == nil || d.Queries == nil {
		panic("app: FeedbackDeps needs Feedback and Queries")
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Retention == 0 {
		d.Retention = domain.DefaultFeedbackRetain
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &FeedbackService{d: d}
}

// FeedbackInput is one judgement as a client reports it. Experiment and
// variant are not among the fields: they come from the query log.
type FeedbackInput struct {
	QueryID  string
	MemoryID string // optional
	Outcome  string
	Rating   *int         // nil: none; a given 0 is out of range, not "none"
	App      domain.AppID // empty: the caller's client
	Latency  *int         // ms; nil: measured from the search
}

// Submit records a batch of feedback (1..domain.MaxFeedbackBatch events),
// all or nothing. Each event must name a query the caller's own search
// produced and, when it names a memory, one that search returned; the event
// is attributed to that search's experiment variant. Any bad event refuses
// the whole batch with a *domain.ValidationError naming the field (prefixed
// events[i]. when there is more than one).
func (s *FeedbackService) Submit(ctx context.Context, p domain.Principal, in []FeedbackInput) ([]domain.FeedbackEvent, error) {
	if err := p.Require(domain.ScopeFeedbackWrite); err != nil {
		return nil, err
	}
	if err := allowWrite(ctx, s.d.Guard, p.Tenant()); err != nil {
		return nil, err
	}
	if len(in) == 0 || len(in) > domain.MaxFeedbackBatch {
		return nil, domain.Invalid("events", "must hold 1-%d events", domain.MaxFeedbackBatch)
	}
	now := s.d.Clock.Now().UTC()
	logs := map[domain.QueryID]domain.QueryLog{}
	out := make([]domain.FeedbackEvent, 0, len(in))
	for i, f := range in {
		e, err := s.event(ctx, p, f, now, logs)
		if err != nil {
			var ve *domain.ValidationError
			if len(in) > 1 && errors.As(err, &ve) {
				return nil, domain.Invalid(fmt.Sprintf("events[%d].%s", i, ve.Field), "%s", ve.Reason)
			}
			return nil, err
		}
		out = append(out, e)
	}
	if err := s.d.Feedback.AppendFeedback(ctx, p.OrgID, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *FeedbackService) event(ctx context.Context, p domain.Principal, f FeedbackInput, now time.Time, logs map[domain.QueryID]domain.QueryLog) (domain.FeedbackEvent, error) {
	qid, err := domain.ParseQueryID(f.QueryID)
	if err != nil {
		return domain.FeedbackEvent{}, err
	}
	outcome, err := domain.ParseOutcome(f.Outcome)
	if err != nil {
		return domain.FeedbackEvent{}, err
	}
	q, ok := logs[qid]
	if !ok {
		q, err = s.d.Queries.GetQuery(ctx, p.Tenant(), qid)
		if errors.Is(err, domain.ErrNotFound) {
			// Another user's or org's query looks exactly like no query.
			return domain.FeedbackEvent{}, domain.Invalid("query_id", "names no search of yours (unknown, another user's, or past retention)")
		}
		if err != nil {
			return domain.FeedbackEvent{}, err
		}
		logs[qid] = q
	}
	e := domain.FeedbackEvent{
		ID: domain.NewID(now), OrgID: p.OrgID, UserID: p.UserID, QueryID: qid, App: ActingApp(p, f.App),
		Outcome: outcome, ExperimentID: q.ExperimentID, Variant: q.Variant, CreatedAt: now,
	}
	if f.Rating != nil {
		if r := *f.Rating; r < domain.MinRating || r > domain.MaxRating {
			return domain.FeedbackEvent{}, domain.Invalid("rating", "must be between %d and %d, got %d", domain.MinRating, domain.MaxRating, r)
		}
		e.Rating = *f.Rating
	}
	if f.MemoryID != "" {
		mid, err := domain.ParseMemoryID(f.MemoryID)
		if err != nil {
			return domain.FeedbackEvent{}, domain.Invalid("memory_id", "must be a lower-case UUID")
		}
		if !slices.Contains(q.ResultIDs, mid) {
			return domain.FeedbackEvent{}, domain.Invalid("memory_id", "was not a result of query %s", qid)
		}
		e.MemoryID = mid
	}
	if f.Latency != nil {
		e.LatencyMS = *f.Latency
	} else {
		e.LatencyMS = int(min(max(now.Sub(q.CreatedAt).Milliseconds(), 0), domain.MaxFeedbackLatencyMS))
	}
	return e, e.Validate()
}

// FeedbackQuery selects feedback for List and Metrics. OrgWide asks for
// every user of the org, which needs the operator scope experiments:write
// (experiments:read shows aggregates only: results, never another user's
// events); otherwise the caller sees their own feedback only.
type FeedbackQuery struct {
	Filter  domain.FeedbackFilter
	OrgWide bool
	Limit   int
	Cursor  string
}

func (s *FeedbackService) filterFor(p domain.Principal, q FeedbackQuery) (domain.FeedbackFilter, error) {
	if err := p.Require(domain.ScopeFeedbackRead); err != nil {
		return domain.FeedbackFilter{}, err
	}
	f := q.Filter
	if q.OrgWide {
		if err := p.Require(domain.ScopeExperimentsWrite); err != nil {
			return f, err
		}
		f.UserID = ""
	} else {
		f.UserID = p.UserID
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, domain.Invalid("since", "must be before until")
	}
	return f, nil
}

// List pages feedback, newest first.
func (s *FeedbackService) List(ctx context.Context, p domain.Principal, q FeedbackQuery) (domain.FeedbackPage, error) {
	f, err := s.filterFor(p, q)
	if err != nil {
		return domain.FeedbackPage{}, err
	}
	if q.Limit, err = listLimit(q.Limit, domain.DefaultListLimit, domain.MaxListLimit); err != nil {
		return domain.FeedbackPage{}, err
	}
	return s.d.Feedback.ListFeedback(ctx, p.OrgID, f, q.Limit, q.Cursor)
}

// Metrics aggregates feedback: acceptance, outcomes, by app, by variant.
func (s *FeedbackService) Metrics(ctx context.Context, p domain.Principal, q FeedbackQuery) (domain.FeedbackMetrics, error) {
	f, err := s.filterFor(p, q)
	if err != nil {
		return domain.FeedbackMetrics{}, err
	}
	return s.d.Feedback.FeedbackMetrics(ctx, p.OrgID, f)
}

// LogQuery records a search of p; the search path calls it.
func (s *FeedbackService) LogQuery(ctx context.Context, p domain.Principal, q domain.QueryLog) error {
	if err := allowWrite(ctx, s.d.Guard, p.Tenant()); err != nil {
		return err
	}
	q.OrgID, q.UserID = p.OrgID, p.UserID
	if q.CreatedAt.IsZero() {
		q.CreatedAt = s.d.Clock.Now().UTC()
	}
	return s.d.Queries.LogQuery(ctx, p.Tenant(), q)
}

// PurgeResult is what retention removed from one org.
type PurgeResult struct {
	Org     domain.OrgID
	Deleted int64
}

// Purge applies retention to every org: feedback and query logs older than
// the retention period (or than before, when it is not zero) are deleted.
// It is a maintenance task, not a request: no principal.
func (s *FeedbackService) Purge(ctx context.Context, before time.Time) ([]PurgeResult, error) {
	if before.IsZero() {
		before = s.d.Clock.Now().Add(-s.d.Retention)
	}
	orgs, err := s.d.Feedback.FeedbackOrgs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PurgeResult, 0, len(orgs))
	for _, org := range orgs {
		n, err := s.d.Feedback.PurgeFeedback(ctx, org, before)
		if err != nil {
			return out, fmt.Errorf("purge feedback of %s: %w", org, err)
		}
		out = append(out, PurgeResult{Org: org, Deleted: n})
	}
	return out, nil
}

// EraseUser deletes a user's feedback, query logs and experiment
// assignments (the right to erasure). It reports the events deleted.
func (s *FeedbackService) EraseUser(ctx context.Context, t domain.Tenant) (int64, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	n, err := s.d.Feedback.EraseUserFeedback(ctx, t)
	if err != nil {
		return 0, err
	}
	if s.d.Experiments != nil {
		if err := s.d.Experiments.EraseAssignments(ctx, t); err != nil {
			return n, err
		}
	}
	return n, nil
}
