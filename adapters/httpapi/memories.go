package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// Request bodies. Every field is named so DisallowUnknownFields can refuse
// the rest; pointers mark "absent" where absent means "keep".

type createMemoryRequest struct {
	Text       string          `json:"text"`
	App        domain.AppID    `json:"app"`
	Metadata   domain.Metadata `json:"metadata"`
	Categories []string        `json:"categories"`
	AgentID    string          `json:"agent_id"`
	RunID      string          `json:"run_id"`
	ExpiresAt  *time.Time      `json:"expires_at"`
	TTL        *int64          `json:"ttl"` // seconds; 0: never
	// Issue 18, RFC 3339 strings parsed by memoryTimes.
	ObservedAt *string `json:"observed_at"`
	ValidFrom  *string `json:"valid_from"`
	ValidTo    *string `json:"valid_to"`
	// Infer asks for facts to be extracted and reconciled (issue 18);
	// Messages is a conversation instead of Text.
	Infer    bool             `json:"infer"`
	Messages []domain.Message `json:"messages"`
}

type updateMemoryRequest struct {
	Text       *string          `json:"text"`
	Metadata   *domain.Metadata `json:"metadata"`
	Categories *[]string        `json:"categories"`
	ExpiresAt  *time.Time       `json:"expires_at"`
	TTL        *int64           `json:"ttl"`
	// Issue 18, RFC 3339 strings parsed by memoryTimes.
	ObservedAt *string `json:"observed_at"`
	ValidFrom  *string `json:"valid_from"`
	ValidTo    *string `json:"valid_to"`
}

type bulkDeleteRequest struct {
	IDs []domain.MemoryID `json:"ids"`
}

type bulkStateRequest struct {
	IDs   []domain.MemoryID `json:"ids"`
	State domain.State      `json:"state"`
}

func (s *Server) createMemory(c echo.Context) error {
	var req createMemoryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.App != "" {
		if err := domain.ValidateAppID(req.App); err != nil {
			return err
		}
	}
	ttl, err := domain.SecondsTTL("ttl", req.TTL)
	if err != nil {
		return err
	}
	observed, from, to, err := memoryTimes(req.ObservedAt, req.ValidFrom, req.ValidTo)
	if err != nil {
		return err
	}
	p, _ := principalOf(c)
	if req.Text != "" && len(req.Messages) > 0 {
		return domain.Invalid("messages", "send text or messages, not both")
	}
	note := ""
	if req.Infer || len(req.Messages) > 0 {
		if req.Infer && s.d.Inference != nil && s.d.Inference.Enabled() {
			return s.submitInference(c, p, req)
		}
		if req.Infer {
			note = "no inference model is configured on this server: the text was stored as given"
		}
		if req.Text == "" {
			if err := domain.ValidateMessages(req.Messages); err != nil {
				return err
			}
			req.Text = joinMessages(req.Messages)
		}
	}
	m, created, err := s.d.Memories.Add(c.Request().Context(), p, app.AddInput{
		Text: req.Text, App: req.App, Metadata: req.Metadata, Categories: req.Categories, AgentID: req.AgentID, RunID: req.RunID,
		ExpiresAt: req.ExpiresAt, TTL: ttl, ObservedAt: observed, ValidFrom: from, ValidTo: to,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK // an exact duplicate: the existing memory
	if created {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/memories/"+string(m.ID))
	}
	if note != "" {
		return c.JSON(status, struct {
			memoryView
			Inference string `json:"inference"`
		}{viewMemory(m), note})
	}
	return c.JSON(status, viewMemory(m))
}

func (s *Server) listMemories(c echo.Context) error {
	if c.QueryParam("q") != "" {
		if c.QueryParam("order") != "" {
			return domain.Invalid("order", "orders a list; a search (q) is ranked by relevance")
		}
		return s.searchMemories(c)
	}
	q, err := listQuery(c)
	if err != nil {
		return err
	}
	p, _ := principalOf(c)
	page, err := s.d.Memories.List(c.Request().Context(), p, q, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewPage(page))
}

func (s *Server) getMemory(c echo.Context) error {
	id, err := memoryIDParam(c)
	if err != nil {
		return err
	}
	p, _ := principalOf(c)
	m, err := s.d.Memories.Get(c.Request().Context(), p, id, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewMemory(m))
}

func (s *Server) updateMemory(c echo.Context) error {
	id, err := memoryIDParam(c)
	if err != nil {
		return err
	}
	var req updateMemoryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ttl, err := domain.SecondsTTL("ttl", req.TTL)
	if err != nil {
		return err
	}
	observed, from, to, err := memoryTimes(req.ObservedAt, req.ValidFrom, req.ValidTo)
	if err != nil {
		return err
	}
	p, _ := principalOf(c)
	m, err := s.d.Memories.Update(c.Request().Context(), p, id, app.UpdateInput{
		Text: req.Text, Metadata: req.Metadata, Categories: req.Categories, ExpiresAt: req.ExpiresAt, TTL: ttl,
		ObservedAt: observed, ValidFrom: from, ValidTo: to,
	}, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewMemory(m))
}

func (s *Server) deleteMemory(c echo.Context) error {
	id, err := memoryIDParam(c)
	if err != nil {
		return err
	}
	p, _ := principalOf(c)
	if err := s.d.Memories.Delete(c.Request().Context(), p, []domain.MemoryID{id}, ""); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) memoryHistory(c echo.Context) error {
	id, err := memoryIDParam(c)
	if err != nil {
		return err
	}
	p, _ := principalOf(c)
	changes, err := s.d.Memories.History(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": viewChanges(changes)})
}

// memoryAccess answers which apps read the memory: each app's latest
// access, most recent first.
func (s *Server) memoryAccess(c echo.Context) error {
	id, err := memoryIDParam(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	p, _ := principalOf(c)
	entries, err := s.d.Memories.MemoryAccess(c.Request().Context(), p, id, limit)
	if err != nil {
		return err
	}
	items := make([]memoryAccessView, len(entries))
	for i, e := range entries {
		items[i] = memoryAccessView{App: e.AppID, Kind: e.Kind, AccessedAt: e.AccessedAt.UTC()}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

type memoryAccessView struct {
	App        domain.AppID      `json:"app"`
	Kind       domain.AccessKind `json:"kind"`
	AccessedAt time.Time         `json:"accessed_at"`
}

func (s *Server) bulkDelete(c echo.Context) error {
	var req bulkDeleteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, _ := principalOf(c)
	if err := s.d.Memories.Delete(c.Request().Context(), p, req.IDs, ""); err != nil {
		return err
	}
	// Deleting is idempotent, so the count is of distinct ids named.
	return c.JSON(http.StatusOK, map[string]int{"deleted": len(slices.Compact(slices.Sorted(slices.Values(req.IDs))))})
}

func (s *Server) bulkState(c echo.Context) error {
	var req bulkStateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.State == "" {
		return domain.Invalid("state", "is required")
	}
	p, _ := principalOf(c)
	ms, err := s.d.Memories.SetState(c.Request().Context(), p, req.IDs, req.State, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": viewMemories(ms)})
}
