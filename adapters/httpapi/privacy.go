package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// EnablePrivacy serves erasure: DELETE /me (the caller erases themself),
// POST /erasures (an org's administrator erases a user or the whole org)
// and GET /erasures/{id} (the job). Each answers 202 with the job while it
// runs in the background; a second request for the same subject gets the
// same job.
func (s *Server) EnablePrivacy(p *app.PrivacyService) {
	s.route(http.MethodDelete, "/me", domain.ScopeMemoriesWrite, s.eraseMe(p))
	s.route(http.MethodPost, "/erasures", domain.ScopePrivacyAdmin, s.eraseInOrg(p))
	s.route(http.MethodGet, "/erasures/:id", domain.ScopeMemoriesRead, s.getErasure(p))
	s.route(http.MethodGet, "/audit", domain.ScopePrivacyAdmin, s.auditTrail(p))
	s.route(http.MethodGet, "/me/export", domain.ScopeMemoriesRead, s.exportMe(p))
	s.EnableRetention(p)
}

// exportMe streams the caller's subject access document. Once the first
// bytes are out the status cannot change: a failure then cuts the
// document short (invalid JSON, never a complete-looking partial one) and
// is logged.
func (s *Server) exportMe(p *app.PrivacyService) echo.HandlerFunc {
	return func(c echo.Context) error {
		pr, _ := principalOf(c)
		res := c.Response()
		res.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="engram-subject-access.json"`)
		res.Header().Set("Cache-Control", "no-store")
		err := p.ExportMe(c.Request().Context(), pr, res)
		if err != nil && res.Committed {
			s.log.ErrorContext(c.Request().Context(), "subject access export cut short", "err", err)
			return nil
		}
		return err
	}
}

type auditView struct {
	ID          domain.AuditID   `json:"id"`
	At          time.Time        `json:"at"`
	Action      string           `json:"action"`
	ActorHash   string           `json:"actor_hash"`
	SubjectHash string           `json:"subject_hash"`
	OrgWide     bool             `json:"org_wide"`
	ErasureID   domain.ErasureID `json:"erasure_id,omitempty"`
	Counts      map[string]int64 `json:"counts"`
	Outcome     string           `json:"outcome"`
}

// auditTrail lists the org's audit events, newest first, ?limit= and
// ?cursor= as elsewhere.
func (s *Server) auditTrail(p *app.PrivacyService) echo.HandlerFunc {
	return func(c echo.Context) error {
		pr, _ := principalOf(c)
		limit := 50
		if v := c.QueryParam("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return domain.Invalid("limit", "must be an integer")
			}
			limit = n
		}
		events, next, err := p.AuditTrail(c.Request().Context(), pr, limit, c.QueryParam("cursor"))
		if err != nil {
			return err
		}
		out := make([]auditView, len(events))
		for i, e := range events {
			counts := e.Counts
			if counts == nil {
				counts = map[string]int64{}
			}
			out[i] = auditView{ID: e.ID, At: e.At.UTC(), Action: e.Action, ActorHash: e.ActorHash, SubjectHash: e.SubjectHash,
				OrgWide: e.OrgWide, ErasureID: e.ErasureID, Counts: counts, Outcome: e.Outcome}
		}
		return c.JSON(http.StatusOK, map[string]any{"events": out, "next_cursor": next})
	}
}

type erasureView struct {
	ID         domain.ErasureID     `json:"id"`
	Status     domain.ErasureStatus `json:"status"`
	OrgWide    bool                 `json:"org_wide"`
	Counts     map[string]int64     `json:"counts"`
	Attempts   int                  `json:"attempts"`
	LastError  string               `json:"last_error,omitempty"`
	CreatedAt  time.Time            `json:"created_at"`
	UpdatedAt  time.Time            `json:"updated_at"`
	FinishedAt *time.Time           `json:"finished_at,omitempty"`
}

func viewErasure(e domain.Erasure) erasureView {
	v := erasureView{
		ID: e.ID, Status: e.Status, OrgWide: e.OrgWide, Counts: e.Counts, Attempts: e.Attempts, LastError: e.LastError,
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
	}
	if v.Counts == nil {
		v.Counts = map[string]int64{}
	}
	if !e.FinishedAt.IsZero() {
		f := e.FinishedAt.UTC()
		v.FinishedAt = &f
	}
	return v
}

func acceptedErasure(c echo.Context, e domain.Erasure) error {
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/erasures/"+string(e.ID))
	return c.JSON(http.StatusAccepted, viewErasure(e))
}

func (s *Server) eraseMe(p *app.PrivacyService) echo.HandlerFunc {
	return func(c echo.Context) error {
		pr, _ := principalOf(c)
		e, _, err := p.EraseMe(c.Request().Context(), pr)
		if err != nil {
			return err
		}
		return acceptedErasure(c, e)
	}
}

type erasureRequest struct {
	UserID   domain.UserID `json:"user"`
	WholeOrg bool          `json:"whole_org"`
}

func (s *Server) eraseInOrg(p *app.PrivacyService) echo.HandlerFunc {
	return func(c echo.Context) error {
		pr, _ := principalOf(c)
		var req erasureRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		// Exactly one of the two: an empty user id must never mean "the
		// whole org" by accident.
		if (req.UserID == "") == !req.WholeOrg {
			return domain.Invalid("user_id", "name a user, or set whole_org (not both)")
		}
		e, _, err := p.EraseInOrg(c.Request().Context(), pr, req.UserID)
		if err != nil {
			return err
		}
		return acceptedErasure(c, e)
	}
}

func (s *Server) getErasure(p *app.PrivacyService) echo.HandlerFunc {
	return func(c echo.Context) error {
		pr, _ := principalOf(c)
		e, err := p.Erasure(c.Request().Context(), pr, domain.ErasureID(c.Param("id")))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewErasure(e))
	}
}
