package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// EnableSessions adds the session routes (short-term conversational memory).
// Call it before serving.
func (s *Server) EnableSessions(svc *app.SessionService) {
	if svc == nil {
		return
	}
	s.route(http.MethodGet, "/sessions", domain.ScopeSessionsRead, s.listSessions(svc))
	s.route(http.MethodPost, "/sessions/:session_id/events", domain.ScopeSessionsWrite, s.appendSessionEvent(svc))
	s.route(http.MethodGet, "/sessions/:session_id/events", domain.ScopeSessionsRead, s.listSessionEvents(svc))
	s.route(http.MethodGet, "/sessions/:session_id/context", domain.ScopeSessionsRead, s.sessionContext(svc))
	s.route(http.MethodPost, "/sessions/:session_id/promote", domain.ScopeSessionsWrite, s.promoteSessionEvents(svc))
	s.route(http.MethodDelete, "/sessions/:session_id", domain.ScopeSessionsWrite, s.endSession(svc))
}

type sessionEventRequest struct {
	Role     string          `json:"role"`
	Text     string          `json:"text"`
	Metadata domain.Metadata `json:"metadata"`
}

type promoteRequest struct {
	EventIDs   []string     `json:"event_ids"`
	App        domain.AppID `json:"app"`
	Categories []string     `json:"categories"`
}

type sessionEventView struct {
	ID        string          `json:"id"`
	Role      domain.Role     `json:"role"`
	Text      string          `json:"text"`
	Metadata  domain.Metadata `json:"metadata"`
	CreatedAt time.Time       `json:"created_at"`
	Score     float64         `json:"score,omitempty"`
}

func viewSessionEvent(e domain.SessionEvent) sessionEventView {
	md := e.Metadata
	if md == nil {
		md = domain.Metadata{}
	}
	return sessionEventView{ID: e.ID, Role: e.Role, Text: e.Text, Metadata: md, CreatedAt: e.CreatedAt, Score: e.Score}
}

func viewSessionEvents(es []domain.SessionEvent) []sessionEventView {
	out := make([]sessionEventView, len(es))
	for i, e := range es {
		out[i] = viewSessionEvent(e)
	}
	return out
}

func sessionParam(c echo.Context) (string, error) {
	id, err := domain.ParseSessionID(c.Param("session_id"))
	return string(id), err
}

func (s *Server) appendSessionEvent(svc *app.SessionService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := sessionParam(c)
		if err != nil {
			return err
		}
		var req sessionEventRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		p, _ := principalOf(c)
		ev, err := svc.Append(c.Request().Context(), p, id, app.EventInput{Role: req.Role, Text: req.Text, Metadata: req.Metadata})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, viewSessionEvent(ev))
	}
}

func (s *Server) listSessions(svc *app.SessionService) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit, err := queryInt(c, "limit")
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		list, err := svc.List(c.Request().Context(), p, limit)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"sessions": list})
	}
}

func (s *Server) listSessionEvents(svc *app.SessionService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := sessionParam(c)
		if err != nil {
			return err
		}
		limit, err := queryInt(c, "limit")
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		evs, err := svc.Recent(c.Request().Context(), p, id, limit)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"session_id": id, "events": viewSessionEvents(evs)})
	}
}

func (s *Server) sessionContext(svc *app.SessionService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := sessionParam(c)
		if err != nil {
			return err
		}
		events, err := queryInt(c, "events")
		if err != nil {
			return err
		}
		memories, err := queryInt(c, "memories")
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		sc, err := svc.Context(c.Request().Context(), p, id, app.ContextInput{Query: c.QueryParam("query"), Events: events, Memories: memories})
		if err != nil {
			return err
		}
		omitted := sc.Omitted
		if omitted == nil {
			omitted = []string{}
		}
		return c.JSON(http.StatusOK, map[string]any{
			"session_id": sc.SessionID, "query": sc.Query,
			"events": viewSessionEvents(sc.Events), "memories": viewMemories(sc.Memories), "omitted": omitted,
		})
	}
}

func (s *Server) promoteSessionEvents(svc *app.SessionService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := sessionParam(c)
		if err != nil {
			return err
		}
		var req promoteRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		p, _ := principalOf(c)
		out, err := svc.Promote(c.Request().Context(), p, id, app.PromoteInput{EventIDs: req.EventIDs, App: req.App, Categories: req.Categories})
		if err != nil {
			return err
		}
		type promotedView struct {
			EventID string     `json:"event_id"`
			Memory  memoryView `json:"memory"`
			Created bool       `json:"created"`
		}
		views := make([]promotedView, len(out))
		for i, pr := range out {
			views[i] = promotedView{EventID: pr.EventID, Memory: viewMemory(pr.Memory), Created: pr.Created}
		}
		return c.JSON(http.StatusOK, map[string]any{"promoted": views})
	}
}

func (s *Server) endSession(svc *app.SessionService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := sessionParam(c)
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		if err := svc.End(c.Request().Context(), p, id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
