package httpapi

import (
	"fmt"
	"math"
	"net/http"

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
		vs, err := variantsFrom(req.Variants)
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		e, err := x.Create(c.Request().Context(), p, app.ExperimentInput{Name: req.Name, Description: req.Description, Variants: vs})
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
			vs, err := variantsFrom(*req.Variants)
			if err != nil {
				return err
			}
			patch.Variants = &vs
		}
		p, _ := principalOf(c)
		e, err := x.Update(c.Request().Context(), p, id, patch)
		if err != nil {
			return err
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
			return err
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
