package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// EnableSearch serves POST /api/v1/search through the experiment-aware
// search: the caller's variant of the org's running experiment picks the
// parameters, and every search is logged under the query_id its response
// carries, which POST /feedback then names. Call it before serving.
// GET /api/v1/memories?q= then searches through it too.
func (s *Server) EnableSearch(xs *app.ExperimentSearch) {
	s.searcher = xs
	s.route(http.MethodPost, "/search", domain.ScopeMemoriesRead, s.search(xs))
}

type searchRequest struct {
	Query    string       `json:"query"`
	Limit    *int         `json:"limit"`
	Mode     string       `json:"mode"`
	Weights  *weightsBody `json:"weights"`
	MinScore float64      `json:"min_score"`
	// MinSimilarity drops results whose similarity is below it.
	MinSimilarity float64         `json:"min_similarity"`
	Diversity     float64         `json:"diversity"`
	App           domain.AppID    `json:"app"`
	Categories    []string        `json:"categories"`
	Metadata      domain.Metadata `json:"metadata"`
	AgentID       string          `json:"agent_id"`
	RunID         string          `json:"run_id"`
	// Filters is an expression of the filter language (docs/filters.md).
	Filters json.RawMessage `json:"filters"`
	// Time (issue 18), RFC 3339: observed in [observed_after,
	// observed_before), and believed at as_of.
	ObservedAfter  *string `json:"observed_after"`
	ObservedBefore *string `json:"observed_before"`
	AsOf           *string `json:"as_of"`
}

// timeFilter sets the search's time bounds from the request's.
func (r searchRequest) timeFilter(f *domain.SearchFilter) error {
	for _, b := range []struct {
		field string
		v     *string
		dst   *time.Time
	}{{"observed_after", r.ObservedAfter, &f.ObservedAfter}, {"observed_before", r.ObservedBefore, &f.ObservedBefore}, {"as_of", r.AsOf, &f.AsOf}} {
		t, err := optionalTime(b.field, b.v)
		if err != nil {
			return err
		}
		if t != nil {
			*b.dst = *t
		}
	}
	return nil
}

// weightsBody is the weights object of a search; an absent weight is its
// default (1; the entity ranking domain.DefaultEntityWeight), a present 0
// switches that ranking off.
type weightsBody struct {
	Lexical *float64 `json:"lexical"`
	Vector  *float64 `json:"vector"`
	Entity  *float64 `json:"entity"`
	// Recency (issue 18): default 0, off.
	Recency *float64 `json:"recency"`
}

type searchHitView struct {
	Memory      memoryView `json:"memory"`
	Score       float64    `json:"score"`
	Similarity  float64    `json:"similarity"`
	LexicalRank int        `json:"lexical_rank,omitempty"`
	VectorRank  int        `json:"vector_rank,omitempty"`
	EntityRank  int        `json:"entity_rank,omitempty"`
}

// scopedWhere is the search's expression: agent_id and run_id (exact) ANDed
// with the filters object, if any.
func scopedWhere(c echo.Context, agent, run string, filters json.RawMessage) (*domain.Filter, error) {
	var parts []*domain.Filter
	for _, s := range []struct {
		field domain.FilterField
		v     string
	}{{domain.FieldAgentID, agent}, {domain.FieldRunID, run}} {
		if s.v == "" {
			continue
		}
		if err := domain.ValidateScopeID(string(s.field), s.v); err != nil {
			return nil, err
		}
		parts = append(parts, domain.Eq(s.field, s.v))
	}
	if len(filters) > 0 && string(filters) != "null" {
		where, err := whereFromJSON(c, filters)
		if err != nil {
			return nil, err
		}
		parts = append(parts, where)
	}
	return domain.Conj(parts...), nil
}

func (s *Server) search(xs *app.ExperimentSearch) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req searchRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		limit, err := domain.OptionalInRange("limit", req.Limit, 1, domain.MaxSearchLimit)
		if err != nil {
			return err
		}
		where, err := scopedWhere(c, req.AgentID, req.RunID, req.Filters)
		if err != nil {
			return err
		}
		in := app.SearchRequest{
			Query: req.Query, Limit: limit, Mode: domain.SearchMode(req.Mode), MinScore: req.MinScore, Diversity: req.Diversity,
			MinSimilarity: req.MinSimilarity,
			Filter:        domain.SearchFilter{App: req.App, Categories: req.Categories, Metadata: req.Metadata}, Where: where,
		}
		if err := req.timeFilter(&in.Filter); err != nil {
			return err
		}
		if req.Weights != nil {
			w := domain.DefaultWeights
			if req.Weights.Lexical != nil {
				w.Lexical = *req.Weights.Lexical
			}
			if req.Weights.Vector != nil {
				w.Vector = *req.Weights.Vector
			}
			if req.Weights.Entity != nil {
				w.Entity = *req.Weights.Entity
			}
			if req.Weights.Recency != nil {
				w.Recency = *req.Weights.Recency
			}
			in.Weights = &w
		}
		p, _ := principalOf(c)
		res, err := xs.Search(c.Request().Context(), p, in, "")
		if err != nil {
			return err
		}
		hits := make([]searchHitView, len(res.Results))
		for i, h := range res.Results {
			hits[i] = searchHitView{Memory: viewMemory(h.Memory), Score: h.Score, Similarity: h.Similarity, LexicalRank: h.LexicalRank, VectorRank: h.VectorRank, EntityRank: h.EntityRank}
		}
		degraded := res.Degraded
		if degraded == nil {
			degraded = []string{}
		}
		return c.JSON(http.StatusOK, map[string]any{"query_id": res.QueryID, "mode": res.Mode, "results": hits, "degraded": degraded})
	}
}
