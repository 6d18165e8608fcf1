package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// MemoryDeps are the ports MemoryService needs.
type MemoryDeps struct {
	Memories ports.MemoryStore
	Apps     ports.AppStore
	Access   ports.AccessLog
	Clock    ports.Clock
	// Logger receives warnings the caller should not fail on (an access log
	// write that failed after a successful read). Nil discards them.
	Logger *slog.Logger
	// Observers are told about every committed change, after the store
	// acknowledged it (index maintenance hooks in here). Their errors are
	// logged, never returned: the store is the system of record.
	Observers []ChangeObserver
	// Outcomes, when set, is told about writes whose outcome stayed
	// unknown (the Indexer, which then repairs that org first).
	Outcomes OutcomeObserver
	// Guard, when set, refuses writes by a user whose erasure has started.
	Guard WriteGuard
	// TTLs, when set, gives a memory added without an expiry its app's
	// default time to live.
	TTLs DefaultTTLs
}

// ChangeObserver is notified after a committed write.
type ChangeObserver interface {
	MemoriesChanged(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error
}

// MemoryService is the memory use cases: add, read, list, update, state
// changes, delete, erase, history, stats.
type MemoryService struct {
	d      MemoryDeps
	access *accessQueue
}

// NewMemoryService checks deps and returns the service.
func NewMemoryService(d MemoryDeps) *MemoryService {
	if d.Memories == nil || d.Apps == nil || d.Access == nil {
		panic("app: MemoryDeps needs Memories, Apps and Access")
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &MemoryService{d: d, access: newAccessQueue(d.Access, d.Apps, d.Logger)}
}

// Close writes the access entries still queued and stops the writer. The
// service must not be used after Close.
func (s *MemoryService) Close() { s.access.close() }

// AddInput is a new memory as a client sends it.
type AddInput struct {
	Text       string
	App        domain.AppID // empty: the caller's default app
	Metadata   domain.Metadata
	Categories []string
	// AgentID and RunID are mem0's optional agent and run scopes.
	AgentID, RunID string
	// ExpiresAt or TTL (not both) make the memory expire; a TTL of 0 means
	// never, overriding the app's default. Neither: the app's default.
	ExpiresAt *time.Time
	TTL       *time.Duration
	// CreatedAt backdates the memory (mem0's timestamp, for history loaded
	// after the fact); nil is now. It may not be in the future. Date filters
	// and stats read it; the id stays this process's next (ids only grow,
	// so a pager in progress never misses a row), so lists keep the order
	// in which memories were added.
	CreatedAt *time.Time
	// ObservedAt is when the memory was said (issue 18); nil is its
	// creation. ValidFrom and ValidTo bound when its fact held; nil is
	// unbounded. domain.Memory.Normalize checks them.
	ObservedAt, ValidFrom, ValidTo *time.Time
}

// ActingApp picks the app a call is recorded under: the app a key is bound
// to, else an explicit one, else the token's client, else domain.DefaultApp.
func ActingApp(p domain.Principal, explicit domain.AppID) domain.AppID {
	if p.BoundApp != "" {
		return p.BoundApp
	}
	if explicit != "" {
		return explicit
	}
	if p.ClientID != "" {
		return domain.AppIDFromClientName(p.ClientID)
	}
	return domain.DefaultApp
}

// Add stores a memory. An exact duplicate of an active memory of the same
// user returns that memory with created=false and writes nothing.
func (s *MemoryService) Add(ctx context.Context, p domain.Principal, in AddInput) (domain.Memory, bool, error) {
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return domain.Memory{}, false, err
	}
	if err := allowWrite(ctx, s.d.Guard, p.Tenant()); err != nil {
		return domain.Memory{}, false, err
	}
	appID := ActingApp(p, in.App)
	now := s.d.Clock.Now()
	createdAt := now
	if in.CreatedAt != nil {
		if in.CreatedAt.After(now) || in.CreatedAt.Before(time.Unix(0, 0)) {
			return domain.Memory{}, false, domain.Invalid("created_at", "must be between 1970 and now")
		}
		createdAt = *in.CreatedAt
	}
	m, err := domain.NewMemory(p.Tenant(), appID, in.Text, in.Metadata, in.Categories, createdAt)
	if err != nil {
		return domain.Memory{}, false, err
	}
	m.AgentID, m.RunID = in.AgentID, in.RunID
	setTimes(&m, in.ObservedAt, in.ValidFrom, in.ValidTo)
	if err := m.Normalize(); err != nil {
		return domain.Memory{}, false, err
	}
	var def time.Duration
	if s.d.TTLs != nil && in.ExpiresAt == nil && in.TTL == nil {
		if def, err = s.d.TTLs.DefaultTTL(ctx, p.OrgID, appID); err != nil {
			return domain.Memory{}, false, err
		}
	}
	if m.ExpiresAt, err = domain.ExpiryOf(now, in.ExpiresAt, in.TTL, def); err != nil {
		return domain.Memory{}, false, err
	}
	if err := s.activeApp(ctx, p.Tenant(), appID); err != nil {
		return domain.Memory{}, false, err
	}
	stored, created, err := s.d.Memories.Create(ctx, p.Tenant(), m)
	if err != nil {
		found, ok := s.committedAnyway(ctx, p.Tenant(), m.ID, err)
		if !ok {
			s.unknownOutcome(p.Tenant(), err)
			return domain.Memory{}, false, err
		}
		stored, created = found, true
	}
	// A duplicate is notified too: it is often a client's retry of a write
	// whose first answer was lost (a 503 or a deadline after the commit),
	// and the first attempt may never have reached the indexes. Indexing
	// is idempotent, so the retry finds the memory fully indexed.
	s.notify(ctx, p.Tenant(), stored.ID)
	return stored, created, nil
}

// activeApp creates the app on first use and refuses writes from a paused one.
func (s *MemoryService) activeApp(ctx context.Context, t domain.Tenant, id domain.AppID) error {
	a, err := s.d.Apps.EnsureApp(ctx, t, id)
	if err != nil {
		return err
	}
	if !a.Active {
		return &domain.ForbiddenError{Reason: fmt.Sprintf("app %q is paused", id)}
	}
	return nil
}

// Get returns one memory and records that actor read it.
func (s *MemoryService) Get(ctx context.Context, p domain.Principal, id domain.MemoryID, actor domain.AppID) (domain.Memory, error) {
	if err := p.Require(domain.ScopeMemoriesRead); err != nil {
		return domain.Memory{}, err
	}
	m, err := s.d.Memories.Get(ctx, p.Tenant(), id)
	if err != nil {
		return domain.Memory{}, err
	}
	s.recordAccess(ctx, p, actor, domain.AccessGet, m)
	return m, nil
}

// List returns one page of the caller's memories and records the reads.
func (s *MemoryService) List(ctx context.Context, p domain.Principal, q domain.ListQuery, actor domain.AppID) (domain.Page, error) {
	if err := p.Require(domain.ScopeMemoriesRead); err != nil {
		return domain.Page{}, err
	}
	if err := q.Validate(); err != nil {
		return domain.Page{}, err
	}
	page, err := s.d.Memories.List(ctx, p.Tenant(), q)
	if err != nil {
		return domain.Page{}, err
	}
	s.recordAccess(ctx, p, actor, domain.AccessList, page.Items...)
	return page, nil
}

// RecordAccess logs that actor read ms (through kind); failures are logged,
// not returned, because the read itself succeeded.
func (s *MemoryService) RecordAccess(ctx context.Context, p domain.Principal, actor domain.AppID, kind domain.AccessKind, ms ...domain.Memory) {
	s.recordAccess(ctx, p, actor, kind, ms...)
}

func (s *MemoryService) recordAccess(ctx context.Context, p domain.Principal, actor domain.AppID, kind domain.AccessKind, ms ...domain.Memory) {
	if len(ms) == 0 {
		return
	}
	actor = ActingApp(p, actor)
	if domain.ValidateAppID(actor) != nil {
		return
	}
	now := s.d.Clock.Now().UTC()
	entries := make([]domain.Access, len(ms))
	for i, m := range ms {
		entries[i] = domain.Access{MemoryID: m.ID, AppID: actor, Kind: kind, AccessedAt: now}
	}
	s.access.enqueue(ctx, p.Tenant(), entries)
}

func (s *MemoryService) notify(ctx context.Context, t domain.Tenant, ids ...domain.MemoryID) {
	for _, o := range s.d.Observers {
		if err := o.MemoriesChanged(ctx, t, ids); err != nil {
			s.d.Logger.WarnContext(ctx, "change observer failed", "count", len(ids), "err", err)
		}
	}
}
