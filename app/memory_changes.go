package app

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// UpdateInput carries the fields a client wants to change; nil means keep.
type UpdateInput struct {
	Text       *string
	Metadata   *domain.Metadata
	Categories *[]string
	// ExpiresAt or TTL (not both) set a new expiry; a TTL of 0 removes it.
	ExpiresAt *time.Time
	TTL       *time.Duration
	// ObservedAt, ValidFrom and ValidTo, when not nil, replace the
	// memory's (issue 18).
	ObservedAt, ValidFrom, ValidTo *time.Time
}

// setTimes copies the times a client gave onto m.
func setTimes(m *domain.Memory, observed, from, to *time.Time) {
	if observed != nil {
		m.ObservedAt = *observed
	}
	if from != nil {
		m.ValidFrom = *from
	}
	if to != nil {
		m.ValidTo = *to
	}
}

// Update changes a memory's text, metadata or categories.
func (s *MemoryService) Update(ctx context.Context, p domain.Principal, id domain.MemoryID, in UpdateInput, actor domain.AppID) (domain.Memory, error) {
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return domain.Memory{}, err
	}
	if in.Text == nil && in.Metadata == nil && in.Categories == nil && in.ExpiresAt == nil && in.TTL == nil &&
		in.ObservedAt == nil && in.ValidFrom == nil && in.ValidTo == nil {
		return domain.Memory{}, domain.Invalid("body", "names no field to change (text, metadata, categories, expires_at, ttl, observed_at, valid_from, valid_to)")
	}
	expiry := in.ExpiresAt != nil || in.TTL != nil
	expiresAt, err := domain.ExpiryOf(s.d.Clock.Now(), in.ExpiresAt, in.TTL, 0)
	if err != nil {
		return domain.Memory{}, err
	}
	if err := allowWrite(ctx, s.d.Guard, p.Tenant()); err != nil {
		return domain.Memory{}, err
	}
	change := func(m *domain.Memory) error {
		if in.Text != nil {
			m.Text = *in.Text
		}
		if in.Metadata != nil {
			m.Metadata = *in.Metadata
		}
		if in.Categories != nil {
			m.Categories = *in.Categories
		}
		if expiry {
			m.ExpiresAt = expiresAt
		}
		setTimes(m, in.ObservedAt, in.ValidFrom, in.ValidTo)
		return nil
	}
	m, err := s.d.Memories.Update(ctx, p.Tenant(), id, ActingApp(p, actor), change)
	if err != nil {
		found, ok := s.updatedAnyway(ctx, p.Tenant(), id, change, err)
		if !ok {
			s.unknownOutcome(p.Tenant(), err)
			return domain.Memory{}, err
		}
		m = found
	}
	s.notify(ctx, p.Tenant(), m.ID)
	return m, nil
}

// SetState moves memories to active, paused or archived, all or nothing.
func (s *MemoryService) SetState(ctx context.Context, p domain.Principal, ids []domain.MemoryID, state domain.State, actor domain.AppID) ([]domain.Memory, error) {
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return nil, err
	}
	if state == domain.StateDeleted {
		return nil, domain.Invalid("state", "use delete to delete memories")
	}
	if _, err := domain.ParseState(string(state)); err != nil {
		return nil, err
	}
	if err := validateIDs(ids); err != nil {
		return nil, err
	}
	ms, err := s.d.Memories.SetState(ctx, p.Tenant(), ids, state, ActingApp(p, actor))
	if err != nil {
		found, ok := s.inStateAnyway(ctx, p.Tenant(), ids, state, err)
		if !ok {
			s.unknownOutcome(p.Tenant(), err)
			return nil, err
		}
		ms = found
	}
	s.notify(ctx, p.Tenant(), ids...)
	return ms, nil
}

// Delete soft-deletes memories, all or nothing.
func (s *MemoryService) Delete(ctx context.Context, p domain.Principal, ids []domain.MemoryID, actor domain.AppID) error {
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return err
	}
	if err := validateIDs(ids); err != nil {
		return err
	}
	if err := s.d.Memories.Delete(ctx, p.Tenant(), ids, ActingApp(p, actor)); err != nil {
		if _, ok := s.inStateAnyway(ctx, p.Tenant(), ids, domain.StateDeleted, err); !ok {
			s.unknownOutcome(p.Tenant(), err)
			return err
		}
	}
	s.notify(ctx, p.Tenant(), ids...)
	return nil
}

// DeleteAll soft-deletes every memory of the caller that is not deleted yet,
// page by page, and returns how many it deleted.
func (s *MemoryService) DeleteAll(ctx context.Context, p domain.Principal, actor domain.AppID) (int, error) {
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return 0, err
	}
	total := 0
	for {
		// On the primary: a lagging replica would leave a memory just
		// written out of the deletion.
		page, err := s.d.Memories.List(ports.WithPrimaryReads(ctx), p.Tenant(), domain.ListQuery{Limit: domain.MaxListLimit})
		if err != nil {
			return total, err
		}
		if len(page.Items) == 0 {
			return total, nil
		}
		ids := make([]domain.MemoryID, len(page.Items))
		for i, m := range page.Items {
			ids[i] = m.ID
		}
		if err := s.Delete(ctx, p, ids, actor); err != nil {
			return total, err
		}
		total += len(ids)
	}
}

// Erase removes a memory's content from the row and its history for good.
func (s *MemoryService) Erase(ctx context.Context, p domain.Principal, id domain.MemoryID, actor domain.AppID) error {
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return err
	}
	if err := s.d.Memories.Erase(ctx, p.Tenant(), id, ActingApp(p, actor)); err != nil {
		return err
	}
	s.notify(ctx, p.Tenant(), id)
	return nil
}

// History returns a memory's changes, oldest first.
func (s *MemoryService) History(ctx context.Context, p domain.Principal, id domain.MemoryID) ([]domain.MemoryChange, error) {
	if err := p.Require(domain.ScopeMemoriesRead); err != nil {
		return nil, err
	}
	return s.d.Memories.History(ctx, p.Tenant(), id)
}

// Stats counts the caller's memories (by state, app, category and day of
// creation), their apps, and the memories each app read.
func (s *MemoryService) Stats(ctx context.Context, p domain.Principal) (domain.Stats, error) {
	if err := p.Require(domain.ScopeStatsRead); err != nil {
		return domain.Stats{}, err
	}
	// Reads are logged asynchronously: write what is queued so that the
	// accessed counts include the caller's own reads.
	s.access.flush(ctx, p.Tenant())
	return s.d.Memories.Stats(ctx, p.Tenant())
}

// MaxBulkIDs bounds bulk requests so one call cannot lock a whole table.
const MaxBulkIDs = 1000

func validateIDs(ids []domain.MemoryID) error {
	if len(ids) == 0 {
		return domain.Invalid("ids", "must name at least one memory")
	}
	if len(ids) > MaxBulkIDs {
		return domain.Invalid("ids", "at most %d per request", MaxBulkIDs)
	}
	for _, id := range ids {
		if !domain.ValidID(string(id)) {
			return domain.Invalid("ids", "%q is not a memory id", id)
		}
	}
	return nil
}
