package app

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// MemoryFinder finds the long-term memories most relevant to a query. The
// search service satisfies it; without one, session context falls back to
// MemoryService.List with a substring match.
type MemoryFinder interface {
	FindMemories(ctx context.Context, p domain.Principal, query string, limit int) ([]domain.Memory, error)
}

// SessionDeps are what SessionService needs. Sessions and Memories are
// required; Finder is optional.
type SessionDeps struct {
	Sessions ports.SessionStore
	Memories *MemoryService
	Finder   MemoryFinder
	Clock    ports.Clock
	Logger   *slog.Logger
	// Guard, when set, refuses events of a user whose erasure has started.
	Guard WriteGuard
}

// SessionService is short-term conversational memory: append and read the
// events of a session, assemble an agent's context from them and from
// long-term memories, promote events to memories, end a session.
type SessionService struct {
	d SessionDeps
}

// NewSessionService checks deps and returns the service.
func NewSessionService(d SessionDeps) *SessionService {
	if d.Sessions == nil || d.Memories == nil {
		panic("app: SessionDeps needs Sessions and Memories")
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &SessionService{d: d}
}

// EventInput is a session event as a client sends it.
type EventInput struct {
	Role     string
	Text     string
	Metadata domain.Metadata
}

// Append records one event in the caller's session, creating the session on
// first use and refreshing its time-to-live.
func (s *SessionService) Append(ctx context.Context, p domain.Principal, session string, in EventInput) (domain.SessionEvent, error) {
	if err := p.Require(domain.ScopeSessionsWrite); err != nil {
		return domain.SessionEvent{}, err
	}
	if err := allowWrite(ctx, s.d.Guard, p.Tenant()); err != nil {
		return domain.SessionEvent{}, err
	}
	sid, err := domain.ParseSessionID(session)
	if err != nil {
		return domain.SessionEvent{}, err
	}
	role, err := domain.ParseRole(in.Role)
	if err != nil {
		return domain.SessionEvent{}, err
	}
	e, err := domain.NewSessionEvent(role, in.Text, in.Metadata, s.d.Clock.Now())
	if err != nil {
		return domain.SessionEvent{}, err
	}
	return s.d.Sessions.Append(ctx, p.Tenant(), sid, e)
}

// Recent returns the newest limit events (0: domain.DefaultRecentEvents)
// in the order they happened, oldest first, without a score. An unknown
// session is empty.
func (s *SessionService) Recent(ctx context.Context, p domain.Principal, session string, limit int) ([]domain.SessionEvent, error) {
	if err := p.Require(domain.ScopeSessionsRead); err != nil {
		return nil, err
	}
	sid, err := domain.ParseSessionID(session)
	if err != nil {
		return nil, err
	}
	limit, err = listLimit(limit, domain.DefaultRecentEvents, domain.MaxRecentEvents)
	if err != nil {
		return nil, err
	}
	evs, err := s.d.Sessions.Recent(ctx, p.Tenant(), sid, limit)
	if err != nil {
		return nil, err
	}
	// The store gives the newest first; a transcript reads oldest first.
	// Score is a context measure (recency weight), not part of a listing.
	slices.Reverse(evs)
	for i := range evs {
		evs[i].Score = 0
	}
	return evs, nil
}

// List returns the caller's live sessions, most recently written first.
func (s *SessionService) List(ctx context.Context, p domain.Principal, limit int) ([]domain.SessionSummary, error) {
	if err := p.Require(domain.ScopeSessionsRead); err != nil {
		return nil, err
	}
	limit, err := listLimit(limit, domain.DefaultSessionList, domain.MaxSessionList)
	if err != nil {
		return nil, err
	}
	return s.d.Sessions.List(ctx, p.Tenant(), limit)
}

// Resolve returns the most recent event mentioning term, for reference
// resolution ("what about it?" → the event that named "Berlin").
func (s *SessionService) Resolve(ctx context.Context, p domain.Principal, session, term string) (domain.SessionEvent, error) {
	if err := p.Require(domain.ScopeSessionsRead); err != nil {
		return domain.SessionEvent{}, err
	}
	sid, err := domain.ParseSessionID(session)
	if err != nil {
		return domain.SessionEvent{}, err
	}
	return s.d.Sessions.FindMention(ctx, p.Tenant(), sid, term)
}

// End deletes the caller's session; an unknown one is domain.ErrNotFound.
func (s *SessionService) End(ctx context.Context, p domain.Principal, session string) error {
	if err := p.Require(domain.ScopeSessionsWrite); err != nil {
		return err
	}
	sid, err := domain.ParseSessionID(session)
	if err != nil {
		return err
	}
	return s.d.Sessions.End(ctx, p.Tenant(), sid)
}

// parallel runs a and b at once and returns their errors.
func parallel(a, b func() error) (errA, errB error) {
	var wg sync.WaitGroup
	wg.Go(func() { errB = b() })
	errA = a()
	wg.Wait()
	return errA, errB
}

// promotedMetadata is the event's metadata plus where the memory came from.
func promotedMetadata(sid domain.SessionID, e domain.SessionEvent) domain.Metadata {
	md := make(domain.Metadata, len(e.Metadata)+3)
	for k, v := range e.Metadata {
		md[k] = v
	}
	md["session_id"] = string(sid)
	md["session_event_id"] = e.ID
	md["session_role"] = string(e.Role)
	return md
}
