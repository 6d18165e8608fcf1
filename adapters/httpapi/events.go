package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// eventView is GET /api/v1/events/{id}: where an asynchronous inference is
// and what it changed. The conversation it learned from is not returned.
type eventView struct {
	ID        string                   `json:"id"`
	Status    domain.EventStatus       `json:"status"`
	App       domain.AppID             `json:"app"`
	Changes   []domain.InferenceChange `json:"changes"`
	Error     string                   `json:"error,omitempty"`
	Attempts  int                      `json:"attempts"`
	CreatedAt time.Time                `json:"created_at"`
	UpdatedAt time.Time                `json:"updated_at"`
}

func viewEvent(ev domain.InferenceEvent) eventView {
	changes := ev.Changes
	if changes == nil {
		changes = []domain.InferenceChange{}
	}
	return eventView{ID: ev.ID, Status: ev.Status, App: ev.App, Changes: changes, Error: ev.Error, Attempts: ev.Attempts,
		CreatedAt: ev.CreatedAt, UpdatedAt: ev.UpdatedAt}
}

// submitInference queues req and answers 202 with the event.
func (s *Server) submitInference(c echo.Context, p domain.Principal, req createMemoryRequest) error {
	msgs := req.Messages
	if len(msgs) == 0 {
		msgs = []domain.Message{{Role: "user", Content: req.Text}}
	}
	if req.ExpiresAt != nil || req.TTL != nil || len(req.Categories) > 0 || req.ObservedAt != nil || req.ValidFrom != nil || req.ValidTo != nil {
		return domain.Invalid("infer", "expires_at, ttl, categories, observed_at, valid_from and valid_to are not supported with infer: true yet")
	}
	ev, err := s.d.Inference.Submit(c.Request().Context(), p, app.InferInput{Messages: msgs, App: req.App,
		AgentID: req.AgentID, RunID: req.RunID, Metadata: req.Metadata})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/events/"+ev.ID)
	return c.JSON(http.StatusAccepted, struct {
		EventID string             `json:"event_id"`
		Status  domain.EventStatus `json:"status"`
	}{ev.ID, ev.Status})
}

func (s *Server) getEvent(c echo.Context) error {
	if s.d.Inference == nil {
		return domain.ErrNotFound
	}
	p, _ := principalOf(c)
	ev, err := s.d.Inference.Event(c.Request().Context(), p, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewEvent(ev))
}

// joinMessages is the text stored for a conversation when no model can
// extract facts from it: its turns, one per line.
func joinMessages(ms []domain.Message) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(m.Role + ": " + m.Content)
	}
	return b.String()
}
