package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/engram-memory/engram/domain"
)

// Context bounds.
const (
	DefaultContextMemories = 10
	MaxContextMemories     = 50
	MaxPromoteEvents       = 100
)

// ContextInput asks for an agent's context. Query selects the long-term
// memories; empty means the text of the session's latest user event.
type ContextInput struct {
	Query    string
	Events   int // recent events; 0: domain.DefaultRecentEvents
	Memories int // long-term memories; 0: DefaultContextMemories
}

// SessionContext is what an agent puts in its prompt: the session's recent
// events (newest first, recency-scored) and the long-term memories most
// relevant to the query.
type SessionContext struct {
	SessionID domain.SessionID
	Query     string
	Events    []domain.SessionEvent
	Memories  []domain.Memory
	// Omitted names parts left out and why ("memories: no memories:read
	// scope", "memories: unavailable"), so a partial context is never
	// mistaken for a complete one.
	Omitted []string
}

// Context assembles the session's recent events and the most relevant
// long-term memories in one call. Both lookups run concurrently. The
// memories need the memories:read scope too; without it, or when the memory
// lookup fails, the events are still returned and Omitted says what is
// missing. A session store failure fails the call.
func (s *SessionService) Context(ctx context.Context, p domain.Principal, session string, in ContextInput) (SessionContext, error) {
	if err := p.Require(domain.ScopeSessionsRead); err != nil {
		return SessionContext{}, err
	}
	sid, err := domain.ParseSessionID(session)
	if err != nil {
		return SessionContext{}, err
	}
	if len(in.Query) > domain.MaxQueryBytes {
		return SessionContext{}, domain.Invalid("query", "must be at most %d bytes", domain.MaxQueryBytes)
	}
	if in.Events == 0 {
		in.Events = domain.DefaultRecentEvents
	}
	if in.Events < 1 || in.Events > domain.MaxRecentEvents {
		return SessionContext{}, domain.Invalid("events", "must be between 1 and %d", domain.MaxRecentEvents)
	}
	if in.Memories == 0 {
		in.Memories = DefaultContextMemories
	}
	if in.Memories < 1 || in.Memories > MaxContextMemories {
		return SessionContext{}, domain.Invalid("memories", "must be between 1 and %d", MaxContextMemories)
	}
	out := SessionContext{SessionID: sid, Query: in.Query}
	wantMemories := p.HasScope(domain.ScopeMemoriesRead)
	if !wantMemories {
		out.Omitted = append(out.Omitted, "memories: the token lacks the memories:read scope")
	}

	var memErr error
	if in.Query != "" || !wantMemories {
		// The query is known: fetch events and memories at once.
		var evErr error
		evErr, memErr = parallel(
			func() (err error) { out.Events, err = s.d.Sessions.Recent(ctx, p.Tenant(), sid, in.Events); return err },
			func() (err error) {
				if wantMemories {
					out.Memories, err = s.findMemories(ctx, p, in.Query, in.Memories)
				}
				return err
			})
		if evErr != nil {
			return SessionContext{}, evErr
		}
	} else {
		if out.Events, err = s.d.Sessions.Recent(ctx, p.Tenant(), sid, in.Events); err != nil {
			return SessionContext{}, err
		}
		out.Query = latestUserText(out.Events)
		if out.Query != "" {
			out.Memories, memErr = s.findMemories(ctx, p, out.Query, in.Memories)
		}
	}
	if memErr != nil {
		if !errors.Is(memErr, domain.ErrUnavailable) {
			return SessionContext{}, memErr
		}
		s.d.Logger.WarnContext(ctx, "session context without memories", "session", sid, "err", memErr)
		out.Memories = nil
		out.Omitted = append(out.Omitted, "memories: the memory store or index is unavailable")
	}
	if out.Events == nil {
		out.Events = []domain.SessionEvent{}
	}
	if out.Memories == nil {
		out.Memories = []domain.Memory{}
	}
	return out, nil
}

func (s *SessionService) findMemories(ctx context.Context, p domain.Principal, query string, limit int) ([]domain.Memory, error) {
	if s.d.Finder != nil {
		return s.d.Finder.FindMemories(ctx, p, query, limit)
	}
	page, err := s.d.Memories.List(ctx, p, domain.ListQuery{TextContains: query, States: []domain.State{domain.StateActive}, Limit: limit}, "")
	return page.Items, err
}

// derivedQueryBytes bounds a query taken from a session event: a user
// message may be 64 KiB, far more than a search query may be
// (domain.MaxQueryBytes), and its start carries the topic.
const derivedQueryBytes = 1024

func latestUserText(events []domain.SessionEvent) string {
	for _, e := range events { // newest first
		if e.Role == domain.RoleUser {
			return truncateUTF8(e.Text, derivedQueryBytes)
		}
	}
	return ""
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// PromoteInput names the events to turn into long-term memories.
type PromoteInput struct {
	EventIDs   []string
	App        domain.AppID // empty: the caller's default app
	Categories []string
}

// Promoted is one event's outcome: the memory it became, and whether that
// memory is new (false: an identical active memory already existed).
type Promoted struct {
	EventID string
	Memory  domain.Memory
	Created bool
}

// Promote turns session events into long-term memories through
// MemoryService.Add, so duplicates, paused apps and index updates behave as
// for any added memory. The memory's metadata is the event's plus
// session_id, session_event_id and session_role. Events are checked to exist
// first (all or nothing); the adds are one by one, and on a failure the
// memories already added stay and are returned with the error.
func (s *SessionService) Promote(ctx context.Context, p domain.Principal, session string, in PromoteInput) ([]Promoted, error) {
	if err := p.Require(domain.ScopeSessionsRead); err != nil {
		return nil, err
	}
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return nil, err
	}
	sid, err := domain.ParseSessionID(session)
	if err != nil {
		return nil, err
	}
	if len(in.EventIDs) == 0 || len(in.EventIDs) > MaxPromoteEvents {
		return nil, domain.Invalid("event_ids", "must name 1 to %d events", MaxPromoteEvents)
	}
	ids := make([]string, 0, len(in.EventIDs))
	for _, id := range in.EventIDs {
		if !domain.ValidID(id) {
			return nil, domain.Invalid("event_ids", "%q is not an event id", id)
		}
		if !slices.Contains(ids, id) { // at most 100: a scan beats a map
			ids = append(ids, id)
		}
	}
	events, err := s.d.Sessions.Events(ctx, p.Tenant(), sid, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Promoted, 0, len(events))
	for _, e := range events {
		m, created, err := s.d.Memories.Add(ctx, p, AddInput{
			Text: e.Text, App: in.App, Metadata: promotedMetadata(sid, e), Categories: in.Categories,
		})
		if err != nil {
			return out, fmt.Errorf("promote event %s: %w", e.ID, err)
		}
		out = append(out, Promoted{EventID: e.ID, Memory: m, Created: created})
	}
	return out, nil
}
