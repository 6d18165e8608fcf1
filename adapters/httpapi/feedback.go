package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// EnableFeedback adds the feedback and experiment routes (issue 7). Call it
// before serving: echo's router is not safe for concurrent registration and
// serving. Either service may be nil to leave its routes out.
func (s *Server) EnableFeedback(f *app.FeedbackService, x *app.ExperimentService) {
	if f != nil {
		s.route(http.MethodPost, "/feedback", domain.ScopeFeedbackWrite, s.postFeedback(f))
		s.route(http.MethodGet, "/feedback", domain.ScopeFeedbackRead, s.listFeedback(f))
		s.route(http.MethodGet, "/feedback/metrics", domain.ScopeFeedbackRead, s.feedbackMetrics(f))
	}
	if x != nil {
		s.experimentRoutes(x)
	}
}

// feedbackRequest is one event; a batch is {"events": [...]}.
type feedbackRequest struct {
	QueryID   string       `json:"query_id"`
	MemoryID  string       `json:"memory_id"`
	Outcome   string       `json:"outcome"`
	Rating    *int         `json:"rating"`
	App       domain.AppID `json:"app"`
	LatencyMS *int         `json:"latency_ms"`
}

type feedbackBody struct {
	feedbackRequest
	Events []feedbackRequest `json:"events"`
}

func (r feedbackRequest) input() app.FeedbackInput {
	return app.FeedbackInput{QueryID: r.QueryID, MemoryID: r.MemoryID, Outcome: r.Outcome, Rating: r.Rating, App: r.App, Latency: r.LatencyMS}
}

type feedbackView struct {
	ID           string          `json:"id"`
	QueryID      domain.QueryID  `json:"query_id"`
	MemoryID     domain.MemoryID `json:"memory_id,omitempty"`
	UserID       domain.UserID   `json:"user_id"`
	App          domain.AppID    `json:"app"`
	Outcome      domain.Outcome  `json:"outcome"`
	Rating       int             `json:"rating,omitempty"`
	ExperimentID string          `json:"experiment_id,omitempty"`
	Variant      string          `json:"variant,omitempty"`
	LatencyMS    int             `json:"latency_ms"`
	CreatedAt    time.Time       `json:"created_at"`
}

func viewFeedback(es []domain.FeedbackEvent) []feedbackView {
	out := make([]feedbackView, len(es))
	for i, e := range es {
		out[i] = feedbackView{
			ID: e.ID, QueryID: e.QueryID, MemoryID: e.MemoryID, UserID: e.UserID, App: e.App, Outcome: e.Outcome,
			Rating: e.Rating, ExperimentID: string(e.ExperimentID), Variant: e.Variant, LatencyMS: e.LatencyMS, CreatedAt: e.CreatedAt.UTC(),
		}
	}
	return out
}

func (s *Server) postFeedback(f *app.FeedbackService) echo.HandlerFunc {
	return func(c echo.Context) error {
		var body feedbackBody
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
		in := []app.FeedbackInput{body.input()}
		if body.Events != nil {
			if body.feedbackRequest != (feedbackRequest{}) {
				return domain.Invalid("events", "send either one event or an events array, not both")
			}
			in = in[:0]
			for _, r := range body.Events {
				in = append(in, r.input())
			}
		}
		p, _ := principalOf(c)
		events, err := f.Submit(c.Request().Context(), p, in)
		if err != nil {
			return err
		}
		if body.Events == nil {
			return c.JSON(http.StatusCreated, viewFeedback(events)[0])
		}
		return c.JSON(http.StatusCreated, map[string]any{"events": viewFeedback(events)})
	}
}

// feedbackQuery reads query_id, experiment_id, since, until, scope (me |
// org), limit and cursor.
func feedbackQuery(c echo.Context) (app.FeedbackQuery, error) {
	var q app.FeedbackQuery
	if v := c.QueryParam("query_id"); v != "" {
		id, err := domain.ParseQueryID(v)
		if err != nil {
			return q, err
		}
		q.Filter.QueryID = id
	}
	if v := c.QueryParam("experiment_id"); v != "" {
		id, err := domain.ParseExperimentID(v)
		if err != nil {
			return q, err
		}
		q.Filter.ExperimentID = id
	}
	for name, dst := range map[string]*time.Time{"since": &q.Filter.Since, "until": &q.Filter.Until} {
		if v := c.QueryParam(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return q, domain.Invalid(name, "must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
			}
			*dst = t
		}
	}
	switch c.QueryParam("scope") {
	case "", "me":
	case "org":
		q.OrgWide = true
	default:
		return q, domain.Invalid("scope", "must be me or org")
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return q, err
	}
	q.Limit, q.Cursor = limit, c.QueryParam("cursor")
	return q, nil
}

func (s *Server) listFeedback(f *app.FeedbackService) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := feedbackQuery(c)
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		page, err := f.List(c.Request().Context(), p, q)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"items": viewFeedback(page.Events), "next_cursor": cursorOrNull(page.Next)})
	}
}

type groupView struct {
	Key            string         `json:"key"`
	Total          int            `json:"total"`
	AcceptanceRate float64        `json:"acceptance_rate"`
	Outcomes       map[string]int `json:"outcomes"`
}

func viewOutcomes(c domain.OutcomeCounts) map[string]int {
	out := make(map[string]int, len(domain.Outcomes))
	for _, o := range domain.Outcomes {
		out[string(o)] = c[o]
	}
	return out
}

func viewGroups(gs []domain.FeedbackGroup) []groupView {
	out := make([]groupView, len(gs))
	for i, g := range gs {
		out[i] = groupView{Key: g.Key, Total: g.Outcomes.Total(), AcceptanceRate: g.Outcomes.AcceptanceRate(), Outcomes: viewOutcomes(g.Outcomes)}
	}
	return out
}

func (s *Server) feedbackMetrics(f *app.FeedbackService) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := feedbackQuery(c)
		if err != nil {
			return err
		}
		if q.Limit != 0 || q.Cursor != "" {
			return domain.Invalid("limit", "metrics are not paged")
		}
		p, _ := principalOf(c)
		m, err := f.Metrics(c.Request().Context(), p, q)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{
			"total": m.Outcomes.Total(), "acceptance_rate": m.Outcomes.AcceptanceRate(), "outcomes": viewOutcomes(m.Outcomes),
			"by_app": viewGroups(m.ByApp), "by_variant": viewGroups(m.ByVariant),
			"rated": m.Rated, "average_rating": m.AvgRating,
		})
	}
}
