package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

func (s *Server) experimentRoutes(x *app.ExperimentService) {
	s.route(http.MethodPost, "/experiments", domain.ScopeExperimentsWrite, s.createExperiment(x))
	s.route(http.MethodGet, "/experiments", domain.ScopeExperimentsRead, s.listExperiments(x))
	s.route(http.MethodGet, "/experiments/:id", domain.ScopeExperimentsRead, s.getExperiment(x))
	s.route(http.MethodPatch, "/experiments/:id", domain.ScopeExperimentsWrite, s.updateExperiment(x))
	for _, a := range []domain.ExperimentAction{domain.ActionStart, domain.ActionPause, domain.ActionResume, domain.ActionComplete, domain.ActionCancel} {
		s.route(http.MethodPost, "/experiments/:id/"+string(a), domain.ScopeExperimentsWrite, s.actOnExperiment(x, a))
	}
	s.route(http.MethodGet, "/experiments/:id/assignment", domain.ScopeExperimentsRead, s.experimentAssignment(x))
	s.route(http.MethodGet, "/experiments/:id/results", domain.ScopeExperimentsRead, s.experimentResults(x))
}

// paramsBody is the wire shape of domain.SearchParams; absent fields keep
// the search defaults.
type paramsBody struct {
	Mode          domain.SearchMode `json:"mode,omitempty"`
	RRFK          int               `json:"rrf_k,omitempty"`
	LexicalWeight float64           `json:"lexical_weight,omitempty"`
	VectorWeight  float64           `json:"vector_weight,omitempty"`
	Limit         int               `json:"limit,omitempty"`
}

type variantBody struct {
	Name   string     `json:"name"`
	Weight float64    `json:"weight"`
	Params paramsBody `json:"params"`
}

func variantsFrom(in []variantBody) []domain.Variant {
	out := make([]domain.Variant, len(in))
	for i, v := range in {
		out[i] = domain.Variant{Name: v.Name, Weight: v.Weight, Params: domain.SearchParams{
			Mode: v.Params.Mode, RRFK: v.Params.RRFK, Limit: v.Params.Limit,
			Weights: domain.Weights{Lexical: v.Params.LexicalWeight, Vector: v.Params.VectorWeight},
		}}
	}
	return out
}

func viewVariants(vs []domain.Variant) []variantBody {
	out := make([]variantBody, len(vs))
	for i, v := range vs {
		out[i] = variantBody{Name: v.Name, Weight: v.Weight, Params: paramsBody{
			Mode: v.Params.Mode, RRFK: v.Params.RRFK, Limit: v.Params.Limit,
			LexicalWeight: v.Params.Weights.Lexical, VectorWeight: v.Params.Weights.Vector,
		}}
	}
	return out
}

type createExperimentRequest struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Variants    []variantBody `json:"variants"`
}

type updateExperimentRequest struct {
	Name        *string        `json:"name"`
	Description *string        `json:"description"`
	Variants    *[]variantBody `json:"variants"`
}

type statusChangeView struct {
	From   domain.ExperimentStatus `json:"from,omitempty"`
	To     domain.ExperimentStatus `json:"to"`
	Actor  domain.UserID           `json:"actor"`
	Reason string                  `json:"reason,omitempty"`
	At     time.Time               `json:"at"`
}

type experimentView struct {
	ID          domain.ExperimentID     `json:"id"`
	Name        string                  `json:"name"`
	Description string                  `json:"description"`
	Status      domain.ExperimentStatus `json:"status"`
	Variants    []variantBody           `json:"variants"`
	CreatedBy   domain.UserID           `json:"created_by"`
	CreatedAt   time.Time               `json:"created_at"`
	UpdatedAt   time.Time               `json:"updated_at"`
	StartedAt   *time.Time              `json:"started_at"`
	EndedAt     *time.Time              `json:"ended_at"`
	History     []statusChangeView      `json:"history"`
}

func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func viewExperiment(e domain.Experiment) experimentView {
	h := make([]statusChangeView, len(e.History))
	for i, c := range e.History {
		h[i] = statusChangeView{From: c.From, To: c.To, Actor: c.Actor, Reason: c.Reason, At: c.At.UTC()}
	}
	return experimentView{
		ID: e.ID, Name: e.Name, Description: e.Description, Status: e.Status, Variants: viewVariants(e.Variants),
		CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
		StartedAt: timeOrNull(e.StartedAt), EndedAt: timeOrNull(e.EndedAt), History: h,
	}
}

func experimentIDParam(c echo.Context) (domain.ExperimentID, error) {
	id, err := domain.ParseExperimentID(c.Param("id"))
	if err != nil {
		return "", fmt.Errorf("path: %w", err)
	}
	return id, nil
}

func (s *Server) createExperiment(x *app.ExperimentService) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req createExperimentRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		p, _ := principalOf(c)
		e, err := x.Create(c.Request().Context(), p, app.ExperimentInput{Name: req.Name, Description: req.Description, Variants: variantsFrom(req.Variants)})
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/experiments/"+string(e.ID))
		return c.JSON(http.StatusCreated, viewExperiment(e))
	}
}

func (s *Server) listExperiments(x *app.ExperimentService) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := principalOf(c)
		list, err := x.List(c.Request().Context(), p, domain.ExperimentStatus(c.QueryParam("status")))
		if err != nil {
			return err
		}
		out := make([]experimentView, len(list))
		for i, e := range list {
			out[i] = viewExperiment(e)
		}
		return c.JSON(http.StatusOK, map[string]any{"items": out})
	}
}

func (s *Server) getExperiment(x *app.ExperimentService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := experimentIDParam(c)
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		e, err := x.Get(c.Request().Context(), p, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewExperiment(e))
	}
}

func (s *Server) updateExperiment(x *app.ExperimentService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := experimentIDParam(c)
		if err != nil {
			return err
		}
		var req updateExperimentRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		patch := app.ExperimentPatch{Name: req.Name, Description: req.Description}
		if req.Variants != nil {
			vs := variantsFrom(*req.Variants)
			patch.Variants = &vs
		}
		p, _ := principalOf(c)
		e, err := x.Update(c.Request().Context(), p, id, patch)
		if err != nil {
			return experimentConflict(c, err)
		}
		return c.JSON(http.StatusOK, viewExperiment(e))
	}
}

type actionRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) actOnExperiment(x *app.ExperimentService, action domain.ExperimentAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := experimentIDParam(c)
		if err != nil {
			return err
		}
		var req actionRequest
		if c.Request().ContentLength != 0 { // the body, with its reason, is optional
			if err := decodeJSON(c, &req); err != nil {
				return err
			}
		}
		p, _ := principalOf(c)
		e, err := x.Act(c.Request().Context(), p, id, action, req.Reason)
		if err != nil {
			return experimentConflict(c, err)
		}
		return c.JSON(http.StatusOK, viewExperiment(e))
	}
}

func (s *Server) experimentAssignment(x *app.ExperimentService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := experimentIDParam(c)
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		a, err := x.Assignment(c.Request().Context(), p, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"experiment_id": a.ExperimentID, "variant": a.Variant, "assigned_at": a.AssignedAt.UTC()})
	}
}

type variantResultView struct {
	Name           string         `json:"name"`
	Control        bool           `json:"control"`
	Users          int            `json:"users"`
	Exposures      int            `json:"exposures"`
	Feedback       int            `json:"feedback"`
	Accepted       int            `json:"accepted"`
	AcceptanceRate float64        `json:"acceptance_rate"`
	CI95           [2]float64     `json:"ci95"`
	PValue         *float64       `json:"p_value"`
	Outcomes       map[string]int `json:"outcomes"`
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func (s *Server) experimentResults(x *app.ExperimentService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := experimentIDParam(c)
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		r, err := x.Results(c.Request().Context(), p, id)
		if err != nil {
			return err
		}
		vs := make([]variantResultView, len(r.Variants))
		for i, v := range r.Variants {
			vs[i] = variantResultView{
				Name: v.Name, Control: v.Control, Users: v.Users, Exposures: v.Exposures, Feedback: v.Feedback,
				Accepted: v.Accepted, AcceptanceRate: round6(v.Rate), CI95: [2]float64{round6(v.CI95.Low), round6(v.CI95.High)},
				PValue: v.PValue, Outcomes: viewOutcomes(v.Outcomes),
			}
		}
		return c.JSON(http.StatusOK, map[string]any{
			"experiment": viewExperiment(r.Experiment), "variants": vs,
			"method": "acceptance = accepted / feedback events; 95% Wilson score interval; two-sided pooled two-proportion z-test against the control (first variant)",
		})
	}
}
