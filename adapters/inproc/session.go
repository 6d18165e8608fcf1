package inproc

import (
	"container/list"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// SessionOptions configures a SessionStore. Zero fields take the defaults.
type SessionOptions struct {
	TTL         time.Duration // default domain.DefaultSessionTTL
	MaxEvents   int           // per session; default domain.MaxSessionEvents
	MaxSessions int           // default 10,000; the least recently written goes first
	// MaxBytes bounds the approximate memory held by all sessions (text,
	// ids, metadata); default 256 MiB. Over it, the least recently written
	// sessions go first, then the oldest events of the one being written.
	MaxBytes int
	// MaxSessionsPerUser (default 100) and MaxBytesPerUser (default 16
	// MiB) bound one user's share, so one tenant's flood cannot evict
	// every other tenant's sessions: past either, Append of that user
	// wraps domain.ErrRateLimited (429) and touches no one else.
	MaxSessionsPerUser int
	MaxBytesPerUser    int
	HalfLife           time.Duration // recency decay; default domain.DefaultRecencyHalfLife
	SweepEvery         time.Duration // default 30s
	Clock              ports.Clock   // default the system clock
	// Keys lends the users' data keys (the system of record's): with
	// encryption on, each event's text and metadata are held sealed
	// (ports.SessionSealer), and the byte bounds count the sealed size.
	// Nil: held as written.
	Keys ports.SessionKeys
}

// SessionStore is a ports.SessionStore in this process's memory.
type SessionStore struct {
	o  SessionOptions
	sw *sweeper

	mu       sync.Mutex
	sessions map[sessionKey]*list.Element // of *session
	lru      list.List                    // front: most recently written
	bytes    int                          // approximate, of every session
	users    map[domain.Tenant]*usage     // each user's sessions and bytes
}

// usage is one user's share of the store.
type usage struct{ sessions, bytes int }

// sessionKey is a struct, not a joined string, so that no choice of org,
// user or session id can collide with another's.
type sessionKey struct {
	org  domain.OrgID
	user domain.UserID
	id   domain.SessionID
}

type session struct {
	key     sessionKey
	events  []domain.SessionEvent // ascending by (CreatedAt, ID)
	byID    map[string]domain.SessionEvent
	expires time.Time
	bytes   int // approximate, of its events
}

var _ ports.SessionStore = (*SessionStore)(nil)

// NewSessionStore starts a store and its sweeper; Close stops it.
func NewSessionStore(o SessionOptions) *SessionStore {
	if o.TTL <= 0 {
		o.TTL = domain.DefaultSessionTTL
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = domain.MaxSessionEvents
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 10_000
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 20
	}
	if o.MaxSessionsPerUser <= 0 {
		o.MaxSessionsPerUser = 100
	}
	if o.MaxBytesPerUser <= 0 {
		o.MaxBytesPerUser = 16 << 20
	}
	if o.HalfLife <= 0 {
		o.HalfLife = domain.DefaultRecencyHalfLife
	}
	if o.Clock == nil {
		o.Clock = ports.SystemClock{}
	}
	s := &SessionStore{o: o, sessions: make(map[sessionKey]*list.Element), users: make(map[domain.Tenant]*usage)}
	s.sw = startSweeper(o.SweepEvery, s.sweep)
	return s
}

// Append implements ports.SessionStore. The plaintext is validated, then
// sealed before the lock is taken (the key may come from the store); what
// is held, and counted, is the sealed form.
func (s *SessionStore) Append(ctx context.Context, t domain.Tenant, sid domain.SessionID, plain domain.SessionEvent) (domain.SessionEvent, error) {
	if err := plain.Normalize(); err != nil {
		return domain.SessionEvent{}, fmt.Errorf("inproc: append to session %s: %w", sid, err)
	}
	e, err := ports.SessionSealer{Keys: s.o.Keys}.Seal(ctx, t, sid, plain)
	if err != nil {
		return domain.SessionEvent{}, fmt.Errorf("inproc: append to session %s: %w", sid, err)
	}
	k := sessionKey{t.OrgID, t.UserID, sid}
	now := s.o.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.liveLocked(k, now)
	u := s.users[t]
	if u == nil {
		u = &usage{}
	}
	size := eventSize(e)
	// At the cap the oldest events make room: only the growth counts.
	freed := 0
	if ss != nil {
		for i := 0; i < len(ss.events)+1-s.o.MaxEvents && i < len(ss.events); i++ {
			freed += eventSize(ss.events[i])
		}
	}
	switch {
	case ss == nil && u.sessions >= s.o.MaxSessionsPerUser:
		return domain.SessionEvent{}, fmt.Errorf("inproc: append to session %s: %w: this user holds %d sessions, the most one user may; end one",
			sid, domain.ErrRateLimited, s.o.MaxSessionsPerUser)
	case size > freed && u.bytes+size-freed > s.o.MaxBytesPerUser:
		return domain.SessionEvent{}, fmt.Errorf("inproc: append to session %s: %w: this user's sessions hold %d bytes, the most one user may is %d; end a session",
			sid, domain.ErrRateLimited, u.bytes, s.o.MaxBytesPerUser)
	}
	s.users[t] = u
	if ss == nil {
		if len(s.sessions) >= s.o.MaxSessions {
			s.removeLocked(s.lru.Back())
		}
		ss = &session{key: k, byID: make(map[string]domain.SessionEvent)}
		s.sessions[k] = s.lru.PushFront(ss)
		u.sessions++
	} else {
		s.lru.MoveToFront(s.sessions[k])
	}
	if _, dup := ss.byID[e.ID]; dup {
		return domain.SessionEvent{}, fmt.Errorf("inproc: append to session %s: event %s: %w", sid, e.ID, domain.ErrAlreadyExists)
	}
	i := sort.Search(len(ss.events), func(i int) bool { return eventLess(e, ss.events[i]) })
	ss.events = append(ss.events, domain.SessionEvent{})
	copy(ss.events[i+1:], ss.events[i:])
	ss.events[i] = e
	ss.byID[e.ID] = e
	ss.bytes += size
	s.bytes += size
	u.bytes += size
	if drop := len(ss.events) - s.o.MaxEvents; drop > 0 {
		s.freedLocked(ss, ss.dropOldest(drop))
	}
	s.enforceBytesLocked(ss)
	ss.expires = now.Add(s.o.TTL)
	return cloneEvent(plain), nil
}

// Recent implements ports.SessionStore.
func (s *SessionStore) Recent(ctx context.Context, t domain.Tenant, sid domain.SessionID, n int) ([]domain.SessionEvent, error) {
	if n < 1 || n > domain.MaxRecentEvents {
		return nil, fmt.Errorf("inproc: recent events of session %s: %w", sid, domain.Invalid("limit", "must be between 1 and %d", domain.MaxRecentEvents))
	}
	now := s.o.Clock.Now()
	s.mu.Lock()
	ss := s.liveLocked(sessionKey{t.OrgID, t.UserID, sid}, now)
	var out []domain.SessionEvent
	if ss != nil {
		out = make([]domain.SessionEvent, 0, min(n, len(ss.events)))
		for i := len(ss.events) - 1; i >= 0 && len(out) < n; i-- {
			out = append(out, cloneEvent(ss.events[i]))
		}
	}
	s.mu.Unlock()
	if err := s.opener(ctx, t, sid).OpenAll(out); err != nil {
		return nil, fmt.Errorf("inproc: recent events of session %s: %w", sid, err)
	}
	domain.ScoreRecency(out, now, s.o.HalfLife)
	return out, nil
}

// Events implements ports.SessionStore.
func (s *SessionStore) Events(ctx context.Context, t domain.Tenant, sid domain.SessionID, ids []string) ([]domain.SessionEvent, error) {
	out, err := s.events(t, sid, ids)
	if err != nil {
		return nil, err
	}
	if err := s.opener(ctx, t, sid).OpenAll(out); err != nil {
		return nil, fmt.Errorf("inproc: session %s: %w", sid, err)
	}
	return out, nil
}

// events returns the stored events with these ids.
func (s *SessionStore) events(t domain.Tenant, sid domain.SessionID, ids []string) ([]domain.SessionEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.liveLocked(sessionKey{t.OrgID, t.UserID, sid}, s.o.Clock.Now())
	out := make([]domain.SessionEvent, 0, len(ids))
	for _, id := range ids {
		var e domain.SessionEvent
		ok := false
		if ss != nil {
			e, ok = ss.byID[id]
		}
		if !ok {
			return nil, fmt.Errorf("inproc: session %s: event %s: %w", sid, id, domain.ErrNotFound)
		}
		out = append(out, cloneEvent(e))
	}
	return out, nil
}

// opener opens the session's sealed events, outside the lock.
func (s *SessionStore) opener(ctx context.Context, t domain.Tenant, sid domain.SessionID) *ports.EventOpener {
	return ports.SessionSealer{Keys: s.o.Keys}.Opener(ctx, t, sid)
}

// FindMention implements ports.SessionStore. Sealed events are matched
// once opened, outside the lock: under it only the session's events are
// copied (a held event's metadata map is never changed, so the copy may
// share it until cloneEvent).
func (s *SessionStore) FindMention(ctx context.Context, t domain.Tenant, sid domain.SessionID, term string) (domain.SessionEvent, error) {
	if term == "" {
		return domain.SessionEvent{}, fmt.Errorf("inproc: find mention in session %s: %w", sid, domain.Invalid("term", "must not be empty"))
	}
	var held []domain.SessionEvent
	s.mu.Lock()
	if ss := s.liveLocked(sessionKey{t.OrgID, t.UserID, sid}, s.o.Clock.Now()); ss != nil {
		held = append(held, ss.events...)
	}
	s.mu.Unlock()
	open := s.opener(ctx, t, sid)
	for i := len(held) - 1; i >= 0; i-- {
		e, err := open.Open(held[i])
		if err != nil {
			return domain.SessionEvent{}, fmt.Errorf("inproc: find mention in session %s: %w", sid, err)
		}
		if domain.MentionMatches(e.Text, term) {
			return cloneEvent(e), nil
		}
	}
	return domain.SessionEvent{}, fmt.Errorf("inproc: find mention of %q in session %s: %w", term, sid, domain.ErrNotFound)
}

// End implements ports.SessionStore.
func (s *SessionStore) End(_ context.Context, t domain.Tenant, sid domain.SessionID) error {
	k := sessionKey{t.OrgID, t.UserID, sid}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.liveLocked(k, s.o.Clock.Now()) == nil {
		return fmt.Errorf("inproc: end session %s: %w", sid, domain.ErrNotFound)
	}
	s.removeLocked(s.sessions[k])
	return nil
}
