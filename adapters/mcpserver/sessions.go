package mcpserver

import (
	"context"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// SessionTools is the short-term (conversation) memory behind the session
// tools; *app.SessionService satisfies it. Both methods check their own
// scopes (sessions:write, sessions:read) as the tools do.
type SessionTools interface {
	Append(ctx context.Context, p domain.Principal, session string, in app.EventInput) (domain.SessionEvent, error)
	Context(ctx context.Context, p domain.Principal, session string, in app.ContextInput) (app.SessionContext, error)
}

var _ SessionTools = (*app.SessionService)(nil)

type sessionEventInput struct {
	SessionID string         `json:"session_id" jsonschema:"The conversation's id, chosen by you and reused for every turn of it: 1-128 letters, digits and ._- ."`
	Role      string         `json:"role" jsonschema:"Who produced the event: user, assistant, system or tool."`
	Text      string         `json:"text" jsonschema:"What was said or returned, verbatim or summarised."`
	Metadata  map[string]any `json:"metadata,omitempty" jsonschema:"Optional JSON object of extra facts about the event."`
}

type sessionEventOut struct {
	ID        string         `json:"id"`
	Role      string         `json:"role"`
	Text      string         `json:"text"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
	Score     float64        `json:"score,omitempty" jsonschema:"recency weight: 1 now, halving every half-life"`
}

func toEventOut(e domain.SessionEvent) sessionEventOut {
	md := map[string]any(e.Metadata)
	if md == nil {
		md = map[string]any{}
	}
	return sessionEventOut{ID: e.ID, Role: string(e.Role), Text: e.Text, Metadata: md, CreatedAt: e.CreatedAt, Score: e.Score}
}

type sessionContextInput struct {
	SessionID string `json:"session_id" jsonschema:"The conversation's id, as given to add_session_event."`
	Query     string `json:"query,omitempty" jsonschema:"What the long-term memories should be relevant to; default the latest user message of the session."`
	Events    *int   `json:"events,omitempty" jsonschema:"How many recent events to return, newest first; default 20."`
	Memories  *int   `json:"memories,omitempty" jsonschema:"How many long-term memories to return; 1-50, default 10."`
}

type sessionContextOut struct {
	SessionID string            `json:"session_id"`
	Query     string            `json:"query"`
	Events    []sessionEventOut `json:"events"`
	Memories  []memoryOut       `json:"memories"`
	Omitted   []string          `json:"omitted,omitempty" jsonschema:"parts left out and why; a context listing omissions is incomplete"`
}

func (s *Server) addSessionTools() {
	addTool(s, &mcp.Tool{
		Name:        "add_session_event",
		Description: "Record one turn of the current conversation (a user message, your answer, a tool result) in short-term session memory. Session memory expires after a day of inactivity; use add_memories for facts worth keeping.",
		Annotations: writes("Add session event", false, false),
	}, domain.ScopeSessionsWrite, app.ClassWrites, func(ctx context.Context, c call, in sessionEventInput) (sessionEventOut, error) {
		e, err := s.deps.Sessions.Append(ctx, c.Principal, in.SessionID, app.EventInput{Role: in.Role, Text: in.Text, Metadata: in.Metadata})
		if err != nil {
			return sessionEventOut{}, err
		}
		return toEventOut(e), nil
	})
	addTool(s, &mcp.Tool{
		Name:        "get_session_context",
		Description: "Get what you need to continue a conversation: its most recent events (newest first) and the user's long-term memories most relevant to the query or, without one, to the latest user message.",
		Annotations: readOnly("Get session context"),
	}, domain.ScopeSessionsRead, app.ClassReads, func(ctx context.Context, c call, in sessionContextInput) (sessionContextOut, error) {
		events, err := domain.OptionalInRange("events", in.Events, 1, domain.MaxRecentEvents)
		if err != nil {
			return sessionContextOut{}, err
		}
		memories, err := domain.OptionalInRange("memories", in.Memories, 1, app.MaxContextMemories)
		if err != nil {
			return sessionContextOut{}, err
		}
		sc, err := s.deps.Sessions.Context(ctx, c.Principal, in.SessionID, app.ContextInput{Query: in.Query, Events: events, Memories: memories})
		if err != nil {
			return sessionContextOut{}, err
		}
		out := sessionContextOut{
			SessionID: string(sc.SessionID), Query: sc.Query, Omitted: sc.Omitted,
			Events: make([]sessionEventOut, len(sc.Events)), Memories: make([]memoryOut, len(sc.Memories)),
		}
		for i, e := range sc.Events {
			out.Events[i] = toEventOut(e)
		}
		for i, m := range sc.Memories {
			out.Memories[i] = toMemoryOut(m)
		}
		return out, nil
	})
}
