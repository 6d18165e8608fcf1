package app

import (
	"context"
	"log/slog"

	"github.com/engram-memory/engram/domain"
)

// ExperimentSearch runs searches the way the org's running experiment says
// and logs every search, so that feedback can name it and be attributed to
// the variant that produced it. It wraps SearchService with the same Search
// signature; the HTTP and MCP search handlers call it instead of the bare
// service when feedback is enabled.
//
// An experiment or query-log failure never fails a search: the search runs
// with the request's own parameters, and feedback on an unlogged query is
// refused later as unknown.
type ExperimentSearch struct {
	search   *SearchService
	exps     *ExperimentService
	feedback *FeedbackService
	log      *slog.Logger
}

// NewExperimentSearch wires the three services; exps may be nil (no
// experiments: searches are only logged).
func NewExperimentSearch(search *SearchService, exps *ExperimentService, feedback *FeedbackService) *ExperimentSearch {
	if search == nil || feedback == nil {
		panic("app: NewExperimentSearch needs a SearchService and a FeedbackService")
	}
	return &ExperimentSearch{search: search, exps: exps, feedback: feedback, log: search.d.Logger}
}

// Search applies the caller's variant (mode, RRF k, weights and limit it
// sets override the request's), runs the search and logs it.
func (x *ExperimentSearch) Search(ctx context.Context, p domain.Principal, req SearchRequest, actor domain.AppID) (SearchResult, error) {
	if err := p.Require(domain.ScopeMemoriesRead); err != nil {
		return SearchResult{}, err
	}
	var plan SearchPlan
	if x.exps != nil {
		var err error
		if plan, err = x.exps.PlanSearch(ctx, p); err != nil {
			x.log.WarnContext(ctx, "search runs outside its experiment: assignment failed", "err", err)
			plan = SearchPlan{}
		}
	}
	if plan.Params.Mode != "" {
		req.Mode = plan.Params.Mode
	}
	if plan.Params.Weights != (domain.Weights{}) {
		w := plan.Params.Weights
		req.Weights = &w
	}
	if plan.Params.Limit != 0 {
		req.Limit = plan.Params.Limit
	}
	if err := req.Validate(); err != nil {
		return SearchResult{}, err
	}
	svc := x.search
	if k := plan.Params.RRFK; k != 0 && k != svc.d.RRFK {
		alt := *svc // a shallow copy shares every port; only k differs
		alt.d.RRFK = k
		svc = &alt
	}
	res, err := svc.Search(ctx, p, req, actor)
	if err != nil {
		return res, err
	}
	ids := make([]domain.MemoryID, len(res.Results))
	for i, h := range res.Results {
		ids[i] = h.Memory.ID
	}
	entry := domain.QueryLog{
		ID: domain.QueryID(res.QueryID), Query: req.Query, ResultIDs: ids,
		Params:       domain.SearchParams{Mode: res.Mode, RRFK: svc.d.RRFK, Weights: *req.Weights, Limit: req.Limit},
		ExperimentID: plan.ExperimentID, Variant: plan.Variant,
	}
	if err := x.feedback.LogQuery(ctx, p, entry); err != nil {
		x.log.WarnContext(ctx, "search not logged: feedback on it will be refused", "query_id", res.QueryID, "err", err)
	}
	return res, nil
}
