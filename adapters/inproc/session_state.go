package inproc

import (
	"container/list"
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
		s.removeLocked(el)
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
		s.removeLocked(el)
	}
}

// Bytes reports the approximate memory held by the sessions' events.
func (s *SessionStore) Bytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

func (s *SessionStore) removeLocked(el *list.Element) {
	ss := el.Value.(*session)
	s.lru.Remove(el)
	delete(s.sessions, ss.key)
	s.bytes -= ss.bytes
	t := domain.Tenant{OrgID: ss.key.org, UserID: ss.key.user}
	if u := s.users[t]; u != nil {
		u.sessions--
		u.bytes -= ss.bytes
		if u.sessions <= 0 {
			delete(s.users, t)
		}
	}
}

// freedLocked accounts for bytes dropped from ss's events.
func (s *SessionStore) freedLocked(ss *session, freed int) {
	s.bytes -= freed
	if u := s.users[domain.Tenant{OrgID: ss.key.org, UserID: ss.key.user}]; u != nil {
		u.bytes -= freed
	}
}

// enforceBytesLocked brings the store under MaxBytes: other sessions go
// first, least recently written first; then cur loses its oldest events,
// keeping at least the newest.
func (s *SessionStore) enforceBytesLocked(cur *session) {
	for s.bytes > s.o.MaxBytes {
		el := s.lru.Back()
		if el.Value.(*session) == cur {
			break
		}
		s.removeLocked(el)
	}
	for s.bytes > s.o.MaxBytes && len(cur.events) > 1 {
		s.freedLocked(cur, cur.dropOldest(1))
	}
}

// dropOldest removes the n oldest events and returns the bytes freed. It
// reslices rather than copies, O(n): the dropped prefix is cleared for the
// GC, and the slice's next growth copies only the live events, so memory
// stays within a constant factor of what is held.
func (ss *session) dropOldest(n int) int {
	freed := 0
	for _, old := range ss.events[:n] {
		delete(ss.byID, old.ID)
		freed += eventSize(old)
	}
	clear(ss.events[:n])
	ss.events = ss.events[n:]
	ss.bytes -= freed
	return freed
}

// eventSize approximates an event's memory: its strings plus a fixed
// overhead per value. It must give the same answer on insert and removal.
func eventSize(e domain.SessionEvent) int {
	return 96 + len(e.ID) + len(e.Role) + len(e.Text) + valueSize(map[string]any(e.Metadata))
}

func valueSize(v any) int {
	switch v := v.(type) {
	case string:
		return 16 + len(v)
	case map[string]any:
		n := 48
		for k, x := range v {
			n += 16 + len(k) + valueSize(x)
		}
		return n
	case []any:
		n := 24
		for _, x := range v {
			n += valueSize(x)
		}
		return n
	}
	return 16
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
