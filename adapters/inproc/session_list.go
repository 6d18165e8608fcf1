package inproc

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// List implements ports.SessionStore. The LRU list is ordered by last
// write, front first, and the store holds at most MaxSessions, so one walk
// is bounded.
func (s *SessionStore) List(_ context.Context, t domain.Tenant, limit int) ([]domain.SessionSummary, error) {
	if limit < 1 || limit > domain.MaxSessionList {
		return nil, domain.Invalid("limit", "must be between 1 and %d", domain.MaxSessionList)
	}
	now := s.o.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []domain.SessionSummary{}
	if s.users[t] == nil {
		return out, nil
	}
	for el := s.lru.Front(); el != nil && len(out) < limit; el = el.Next() {
		ss := el.Value.(*session)
		if ss.key.org != t.OrgID || ss.key.user != t.UserID || !ss.expires.After(now) {
			continue
		}
		out = append(out, domain.SessionSummary{ID: ss.key.id, Events: len(ss.events), ExpiresAt: ss.expires.UTC()})
	}
	return out, nil
}
