package intercept

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// WrapFeedback decorates the feedback store; appends, purges and erasures
// are never retried.
func WrapFeedback(next ports.FeedbackStore, dep string, ic Interceptor) ports.FeedbackStore {
	return feedback{base{dep, ic}, next}
}

type feedback struct {
	base
	next ports.FeedbackStore
}

func (f feedback) AppendFeedback(ctx context.Context, org domain.OrgID, events []domain.FeedbackEvent) error {
	return f.do(ctx, "append_feedback", write, func(ctx context.Context) error { return f.next.AppendFeedback(ctx, org, events) })
}

func (f feedback) ListFeedback(ctx context.Context, org domain.OrgID, fl domain.FeedbackFilter, limit int, cursor string) (p domain.FeedbackPage, err error) {
	err = f.do(ctx, "list_feedback", read, func(ctx context.Context) (e error) { p, e = f.next.ListFeedback(ctx, org, fl, limit, cursor); return })
	return p, err
}

func (f feedback) FeedbackMetrics(ctx context.Context, org domain.OrgID, fl domain.FeedbackFilter) (m domain.FeedbackMetrics, err error) {
	err = f.do(ctx, "feedback_metrics", read, func(ctx context.Context) (e error) { m, e = f.next.FeedbackMetrics(ctx, org, fl); return })
	return m, err
}

func (f feedback) PurgeFeedback(ctx context.Context, org domain.OrgID, before time.Time) (n int64, err error) {
	err = f.do(ctx, "purge_feedback", write, func(ctx context.Context) (e error) { n, e = f.next.PurgeFeedback(ctx, org, before); return })
	return n, err
}

func (f feedback) FeedbackOrgs(ctx context.Context) (orgs []domain.OrgID, err error) {
	err = f.do(ctx, "feedback_orgs", read, func(ctx context.Context) (e error) { orgs, e = f.next.FeedbackOrgs(ctx); return })
	return orgs, err
}

func (f feedback) EraseUserFeedback(ctx context.Context, t domain.Tenant) (n int64, err error) {
	err = f.do(ctx, "erase_user_feedback", write, func(ctx context.Context) (e error) { n, e = f.next.EraseUserFeedback(ctx, t); return })
	return n, err
}

// WrapQueryLog decorates the query log; logging a query is never retried.
func WrapQueryLog(next ports.QueryLog, dep string, ic Interceptor) ports.QueryLog {
	return queryLog{base{dep, ic}, next}
}

type queryLog struct {
	base
	next ports.QueryLog
}

func (q queryLog) LogQuery(ctx context.Context, t domain.Tenant, l domain.QueryLog) error {
	return q.do(ctx, "log_query", write, func(ctx context.Context) error { return q.next.LogQuery(ctx, t, l) })
}

func (q queryLog) GetQuery(ctx context.Context, t domain.Tenant, id domain.QueryID) (l domain.QueryLog, err error) {
	err = q.do(ctx, "get_query", read, func(ctx context.Context) (e error) { l, e = q.next.GetQuery(ctx, t, id); return })
	return l, err
}

func (q queryLog) ListQueries(ctx context.Context, org domain.OrgID, since time.Time, limit int, cursor string) (ls []domain.QueryLog, next string, err error) {
	err = q.do(ctx, "list_queries", read, func(ctx context.Context) (e error) {
		ls, next, e = q.next.ListQueries(ctx, org, since, limit, cursor)
		return
	})
	return ls, next, err
}

func (q queryLog) ExposureCounts(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (m map[string]int, err error) {
	err = q.do(ctx, "exposure_counts", read, func(ctx context.Context) (e error) { m, e = q.next.ExposureCounts(ctx, org, id); return })
	return m, err
}

// WrapExperiments decorates the experiment store; creations, updates
// (whose callback must not run twice), assignments and erasures are never
// retried.
func WrapExperiments(next ports.ExperimentStore, dep string, ic Interceptor) ports.ExperimentStore {
	return experiments{base{dep, ic}, next}
}

type experiments struct {
	base
	next ports.ExperimentStore
}

func (x experiments) CreateExperiment(ctx context.Context, org domain.OrgID, e domain.Experiment) (out domain.Experiment, err error) {
	err = x.do(ctx, "create_experiment", write, func(ctx context.Context) (er error) { out, er = x.next.CreateExperiment(ctx, org, e); return })
	return out, err
}

func (x experiments) GetExperiment(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (out domain.Experiment, err error) {
	err = x.do(ctx, "get_experiment", read, func(ctx context.Context) (e error) { out, e = x.next.GetExperiment(ctx, org, id); return })
	return out, err
}

func (x experiments) ListExperiments(ctx context.Context, org domain.OrgID, st domain.ExperimentStatus) (out []domain.Experiment, err error) {
	err = x.do(ctx, "list_experiments", read, func(ctx context.Context) (e error) { out, e = x.next.ListExperiments(ctx, org, st); return })
	return out, err
}

func (x experiments) UpdateExperiment(ctx context.Context, org domain.OrgID, id domain.ExperimentID, fn func(*domain.Experiment) error) (out domain.Experiment, err error) {
	err = x.do(ctx, "update_experiment", write, func(ctx context.Context) (e error) { out, e = x.next.UpdateExperiment(ctx, org, id, fn); return })
	return out, err
}

func (x experiments) RunningExperiment(ctx context.Context, org domain.OrgID) (out domain.Experiment, err error) {
	err = x.do(ctx, "running_experiment", read, func(ctx context.Context) (e error) { out, e = x.next.RunningExperiment(ctx, org); return })
	return out, err
}

func (x experiments) Assign(ctx context.Context, org domain.OrgID, a domain.Assignment) (out domain.Assignment, err error) {
	err = x.do(ctx, "assign", write, func(ctx context.Context) (e error) { out, e = x.next.Assign(ctx, org, a); return })
	return out, err
}

func (x experiments) GetAssignment(ctx context.Context, org domain.OrgID, id domain.ExperimentID, user domain.UserID) (out domain.Assignment, err error) {
	err = x.do(ctx, "get_assignment", read, func(ctx context.Context) (e error) { out, e = x.next.GetAssignment(ctx, org, id, user); return })
	return out, err
}

func (x experiments) AssignmentCounts(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (m map[string]int, err error) {
	err = x.do(ctx, "assignment_counts", read, func(ctx context.Context) (e error) { m, e = x.next.AssignmentCounts(ctx, org, id); return })
	return m, err
}

func (x experiments) EraseAssignments(ctx context.Context, t domain.Tenant) error {
	return x.do(ctx, "erase_assignments", write, func(ctx context.Context) error { return x.next.EraseAssignments(ctx, t) })
}
