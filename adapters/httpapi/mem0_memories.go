package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// mem0Entity is the entity fields every mem0 write and read may carry.
type mem0Entity struct {
	UserID    string `json:"user_id"`
	AgentID   string `json:"agent_id"`
	RunID     string `json:"run_id"`
	AppID     string `json:"app_id"`
	OrgID     string `json:"org_id"`
	ProjectID string `json:"project_id"`
}

// validate checks the agent and run scopes (stored beside the user).
func (e mem0Entity) validate() error {
	if err := domain.ValidateScopeID("agent_id", e.AgentID); err != nil {
		return err
	}
	return domain.ValidateScopeID("run_id", e.RunID)
}

type mem0AddRequest struct {
	mem0Entity
	Messages     json.RawMessage `json:"messages"`
	Metadata     domain.Metadata `json:"metadata"`
	Infer        *bool           `json:"infer"`
	OutputFormat string          `json:"output_format"`
	// ExpirationDate is mem0's expiry (mem0_dates.go).
	ExpirationDate json.RawMessage `json:"expiration_date"`
	// Timestamp backdates the memories (Unix seconds), as mem0's does.
	Timestamp *float64 `json:"timestamp"`
}

// mem0MaxMessages bounds the turns of one add (docs/openapi-mem0.yaml).
const mem0MaxMessages = 256

// mem0Message is one turn of a conversation as mem0 sends it.
type mem0Message struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

// texts turns messages into what is stored without a model: a string is
// one memory; each user or assistant turn with text content is one memory.
// With a model configured and infer not false (mem0's default is true),
// addInferred extracts facts from the conversation instead.
func (r mem0AddRequest) texts() ([]string, error) {
	var s string
	if err := json.Unmarshal(r.Messages, &s); err == nil {
		if strings.TrimSpace(s) == "" {
			return nil, domain.Invalid("messages", "must not be empty")
		}
		return []string{s}, nil
	}
	var msgs []mem0Message
	if err := json.Unmarshal(r.Messages, &msgs); err != nil {
		return nil, domain.Invalid("messages", "must be a string or an array of {role, content}")
	}
	if len(msgs) > mem0MaxMessages {
		return nil, domain.Invalid("messages", "must hold at most %d turns", mem0MaxMessages)
	}
	var out []string
	for _, m := range msgs {
		text, ok := m.Content.(string)
		if !ok || strings.TrimSpace(text) == "" || m.Role == "system" {
			continue
		}
		out = append(out, text)
	}
	if len(out) == 0 {
		return nil, domain.Invalid("messages", "hold no user or assistant text")
	}
	return out, nil
}

// conversation is messages as turns for inference: a string is one user
// turn; system turns are kept (they carry a caller's context), turns
// without text content are dropped.
func (r mem0AddRequest) conversation() ([]domain.Message, error) {
	var s string
	if err := json.Unmarshal(r.Messages, &s); err == nil {
		return []domain.Message{{Role: "user", Content: s}}, nil
	}
	var msgs []mem0Message
	if err := json.Unmarshal(r.Messages, &msgs); err != nil {
		return nil, domain.Invalid("messages", "must be a string or an array of {role, content}")
	}
	out := make([]domain.Message, 0, len(msgs))
	for _, m := range msgs {
		if text, ok := m.Content.(string); ok && strings.TrimSpace(text) != "" {
			out = append(out, domain.Message{Role: m.Role, Content: text})
		}
	}
	return out, nil
}

// addInferred runs inference on the conversation while the request waits,
// as mem0's own server does, and answers mem0's events: ADD for a new
// fact, UPDATE for a memory rewritten, DELETE for a memory a new fact
// superseded (Engram keeps it, deleted, with its history) beside the ADD
// of its successor, NONE for a fact already known.
func (m *mem0) addInferred(c echo.Context, p domain.Principal, req mem0AddRequest) error {
	msgs, err := req.conversation()
	if err != nil {
		return err
	}
	changes, err := m.s.d.Inference.Infer(c.Request().Context(), p, app.InferInput{
		Messages: msgs, App: domain.AppID(req.AppID), AgentID: req.AgentID, RunID: req.RunID, Metadata: req.Metadata,
	})
	if err != nil {
		return err
	}
	events := make([]mem0Event, 0, len(changes))
	event := func(id domain.MemoryID, text, kind string) {
		events = append(events, mem0Event{ID: string(id), Memory: text, Data: map[string]string{"memory": text}, Event: kind})
	}
	for _, ch := range changes {
		switch ch.Action {
		case domain.InferAdd:
			event(ch.MemoryID, ch.Text, "ADD")
		case domain.InferUpdate:
			event(ch.MemoryID, ch.Text, "UPDATE")
		case domain.InferSupersede:
			event(ch.Previous, "", "DELETE")
			event(ch.MemoryID, ch.Text, "ADD")
		default: // a fact already known: mem0 names the memory that holds it
			if ch.MemoryID != "" {
				event(ch.MemoryID, ch.Text, "NONE")
			}
		}
	}
	if strings.HasPrefix(c.Path(), "/v1/") && req.OutputFormat != "v1.1" {
		return c.JSON(http.StatusOK, events)
	}
	return c.JSON(http.StatusOK, map[string]any{"results": events, "status": "SUCCEEDED", "message": "memories inferred"})
}

// mem0Event is one memory an add touched, in mem0's v1.1 shape plus the
// v1.0 data.memory field, so either reading works.
type mem0Event struct {
	ID     string            `json:"id"`
	Memory string            `json:"memory"`
	Data   map[string]string `json:"data"`
	Event  string            `json:"event"`
}

func (m *mem0) add(c echo.Context) error {
	var req mem0AddRequest
	if err := decodeMem0(c, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	texts, err := req.texts()
	if err != nil {
		return err
	}
	expiresAt, _, err := mem0ExpiryOf(req.ExpirationDate)
	if err != nil {
		return err
	}
	createdAt, err := mem0CreatedAt(req.Timestamp)
	if err != nil {
		return err
	}
	p, err := principalFor(c, req.UserID, req.OrgID, req.ProjectID)
	if err != nil {
		return err
	}
	if (req.Infer == nil || *req.Infer) && m.s.d.Inference != nil && m.s.d.Inference.Enabled() {
		if expiresAt != nil {
			// Inference decides which memories change; an expiry for its
			// additions alone would be a guess at what was meant.
			return domain.Invalid("expiration_date", "is not supported with inference yet; send infer: false to store the text as given with this expiry")
		}
		if createdAt != nil {
			return domain.Invalid("timestamp", "is not supported with inference yet; send infer: false to store the text as given at this time")
		}
		return m.addInferred(c, p, req)
	}
	events := make([]mem0Event, 0, len(texts))
	for _, text := range texts {
		mem, created, err := m.s.d.Memories.Add(c.Request().Context(), p, app.AddInput{
			Text: text, App: domain.AppID(req.AppID), Metadata: req.Metadata, AgentID: req.AgentID, RunID: req.RunID,
			ExpiresAt: expiresAt, CreatedAt: createdAt,
		})
		if err != nil {
			return err
		}
		kind := "ADD"
		if !created {
			kind = "NONE" // an exact duplicate: mem0's event for "nothing changed"
		}
		events = append(events, mem0Event{ID: string(mem.ID), Memory: mem.Text, Data: map[string]string{"memory": mem.Text}, Event: kind})
	}
	if strings.HasPrefix(c.Path(), "/v1/") && req.OutputFormat != "v1.1" {
		return c.JSON(http.StatusOK, events)
	}
	return c.JSON(http.StatusOK, map[string]any{"results": events, "status": "SUCCEEDED", "message": "memories stored"})
}

type mem0SearchRequest struct {
	mem0Entity
	Query        string          `json:"query"`
	Filters      json.RawMessage `json:"filters"`
	TopK         int             `json:"top_k"`
	Limit        int             `json:"limit"`
	Threshold    *float64        `json:"threshold"`
	OutputFormat string          `json:"output_format"`
	ShowExpired  *bool           `json:"show_expired"`
}

func (m *mem0) search(c echo.Context) error {
	var req mem0SearchRequest
	if err := decodeMem0(c, &req); err != nil {
		return err
	}
	if err := refuseShowExpired(req.ShowExpired); err != nil {
		return err
	}
	f, err := filtersFrom(req.Filters)
	if err != nil {
		return err
	}
	where, err := req.whereOf(f.Where)
	if err != nil {
		return err
	}
	p, err := m.actor(c, req.mem0Entity, f)
	if err != nil {
		return err
	}
	var threshold float64
	if req.Threshold != nil {
		if *req.Threshold < 0 || *req.Threshold > 1 {
			return domain.Invalid("threshold", "must be between 0 and 1")
		}
		threshold = *req.Threshold
	}
	limit := req.TopK
	if limit == 0 {
		limit = req.Limit
	}
	res, err := m.d.Search.Search(c.Request().Context(), p, app.SearchRequest{
		Query: req.Query, Limit: limit, Where: where, MinSimilarity: threshold,
	}, "")
	if err != nil {
		return err
	}
	out := make([]mem0Memory, len(res.Results))
	for i, h := range res.Results {
		out[i] = viewMem0(h.Memory)
		sim, fused := h.Similarity, h.Score
		out[i].Score, out[i].Similarity, out[i].FusedScore = &sim, &sim, &fused
	}
	if strings.HasPrefix(c.Path(), "/v3/") || req.OutputFormat == "v1.1" {
		return c.JSON(http.StatusOK, map[string]any{"results": out})
	}
	return c.JSON(http.StatusOK, out)
}

// actor resolves the principal of a read from the body's entity fields and
// the filters' user_id (mem0 3.x puts it only in filters).
func (m *mem0) actor(c echo.Context, e mem0Entity, f mem0Filter) (domain.Principal, error) {
	user := e.UserID
	if f.UserID != "" {
		if user != "" && user != f.UserID {
			return domain.Principal{}, domain.Invalid("user_id", "differs from filters.user_id")
		}
		user = f.UserID
	}
	return principalFor(c, user, e.OrgID, e.ProjectID, f.OrgID, f.ProjectID)
}
