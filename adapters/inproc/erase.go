package inproc

import (
	"context"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.SessionEraser     = (*SessionStore)(nil)
	_ ports.IdempotencyEraser = (*IdempotencyStore)(nil)
	_ ports.SessionLister     = (*SessionStore)(nil)
)

// EraseSessions implements ports.SessionEraser.
func (s *SessionStore) EraseSessions(_ context.Context, subj domain.Subject) (int64, error) {
	if err := subj.Validate(); err != nil {
		return 0, fmt.Errorf("inproc: erase sessions: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for k, el := range s.sessions {
		if subj.Covers(domain.Tenant{OrgID: k.org, UserID: k.user}) {
			s.removeLocked(el)
			n++
		}
	}
	return n, nil
}

// SubjectSessions implements ports.SessionLister.
func (s *SessionStore) SubjectSessions(_ context.Context, t domain.Tenant) ([]domain.SessionID, error) {
	now := s.o.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []domain.SessionID
	for k := range s.sessions {
		if k.org == t.OrgID && k.user == t.UserID && s.liveLocked(k, now) != nil {
			out = append(out, k.id)
		}
	}
	return out, nil
}

// EraseIdempotency implements ports.IdempotencyEraser.
func (s *IdempotencyStore) EraseIdempotency(_ context.Context, subj domain.Subject) (int64, error) {
	if err := subj.Validate(); err != nil {
		return 0, fmt.Errorf("inproc: erase idempotency records: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for k := range s.records {
		if ports.SubjectOwnsScope(subj, k.scope) {
			delete(s.records, k)
			n++
		}
	}
	return n, nil
}
