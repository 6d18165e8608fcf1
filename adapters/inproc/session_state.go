package inproc

import (
	"time"

	"github.com/engram-memory/engram/domain"
)

// Len reports how many sessions are held, expired ones not yet swept included.
func (s *SessionStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close stops the sweeper.
func (s *SessionStore) Close() error {
	s.sw.stop()
	return nil
}

// liveLocked returns the session, or nil when absent or expired (an expired
// one is dropped on the spot, so reads never depend on the sweeper's pace).
func (s *SessionStore) liveLocked(k sessionKey, now time.Time) *session {
	el, ok := s.sessions[k]
	if !ok {
		return nil
	}
	ss := el.Value.(*session)
	if !ss.expires.After(now) {
		s.lru.Remove(el)
		delete(s.sessions, k)
		return nil
	}
	return ss
}

func (s *SessionStore) sweep() {
	now := s.o.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Oldest writes are at the back; stop at the first live session.
	for el := s.lru.Back(); el != nil; el = s.lru.Back() {
		ss := el.Value.(*session)
		if ss.expires.After(now) {
			return
		}
		s.lru.Remove(el)
		delete(s.sessions, ss.key)
	}
}

func eventLess(a, b domain.SessionEvent) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// cloneEvent deep-copies the metadata, so callers cannot change what is
// stored by mutating what they got.
func cloneEvent(e domain.SessionEvent) domain.SessionEvent {
	if e.Metadata != nil {
		e.Metadata = cloneValue(map[string]any(e.Metadata)).(map[string]any)
	}
	return e
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = cloneValue(x)
		}
		return out
	case domain.Metadata:
		return domain.Metadata(cloneValue(map[string]any(v)).(map[string]any))
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cloneValue(x)
		}
		return out
	}
	return v
}
