package resilience

import (
	"context"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// StorePorts is the system of record as the wiring sees it.
type StorePorts interface {
	ports.MemoryStore
	ports.AppStore
	ports.AccessLog
}

// Store guards a system of record. Reads retry; writes (including Update,
// whose callback must not run twice, and RecordAccess, which appends) do not.
type Store struct {
	next StorePorts
	p    *Policy
}

var _ StorePorts = (*Store)(nil)

// NewStore decorates next with p.
func NewStore(next StorePorts, p *Policy) *Store { return &Store{next: next, p: p} }

// Unwrap returns the decorated store, for the optional interfaces
// (ports.MemoryScanner, feedback, experiments) the wiring finds on it.
func (s *Store) Unwrap() StorePorts { return s.next }

type created struct {
	m  domain.Memory
	ok bool
}

func (s *Store) Create(ctx context.Context, t domain.Tenant, m domain.Memory) (domain.Memory, bool, error) {
	r, err := do(ctx, s.p, "create", false, func(ctx context.Context) (created, error) {
		st, ok, err := s.next.Create(ctx, t, m)
		return created{st, ok}, err
	})
	return r.m, r.ok, err
}

func (s *Store) CreateBatch(ctx context.Context, t domain.Tenant, ms []domain.Memory) (int, error) {
	return do(ctx, s.p, "create_batch", false, func(ctx context.Context) (int, error) { return s.next.CreateBatch(ctx, t, ms) })
}

func (s *Store) Get(ctx context.Context, t domain.Tenant, id domain.MemoryID) (domain.Memory, error) {
	return do(ctx, s.p, "get", true, func(ctx context.Context) (domain.Memory, error) { return s.next.Get(ctx, t, id) })
}

func (s *Store) Update(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID, fn func(*domain.Memory) error) (domain.Memory, error) {
	return do(ctx, s.p, "update", false, func(ctx context.Context) (domain.Memory, error) { return s.next.Update(ctx, t, id, actor, fn) })
}

func (s *Store) SetState(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, state domain.State, actor domain.AppID) ([]domain.Memory, error) {
	return do(ctx, s.p, "set_state", false, func(ctx context.Context) ([]domain.Memory, error) {
		return s.next.SetState(ctx, t, ids, state, actor)
	})
}

func (s *Store) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, actor domain.AppID) error {
	_, err := do(ctx, s.p, "delete", false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.next.Delete(ctx, t, ids, actor)
	})
	return err
}

func (s *Store) Erase(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID) error {
	_, err := do(ctx, s.p, "erase", false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.next.Erase(ctx, t, id, actor)
	})
	return err
}

func (s *Store) List(ctx context.Context, t domain.Tenant, q domain.ListQuery) (domain.Page, error) {
	return do(ctx, s.p, "list", true, func(ctx context.Context) (domain.Page, error) { return s.next.List(ctx, t, q) })
}

func (s *Store) History(ctx context.Context, t domain.Tenant, id domain.MemoryID) ([]domain.MemoryChange, error) {
	return do(ctx, s.p, "history", true, func(ctx context.Context) ([]domain.MemoryChange, error) { return s.next.History(ctx, t, id) })
}

func (s *Store) Stats(ctx context.Context, t domain.Tenant) (domain.Stats, error) {
	return do(ctx, s.p, "stats", true, func(ctx context.Context) (domain.Stats, error) { return s.next.Stats(ctx, t) })
}

// EnsureApp creates at most one row however often it runs, so it retries.
func (s *Store) EnsureApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error) {
	return do(ctx, s.p, "ensure_app", true, func(ctx context.Context) (domain.App, error) { return s.next.EnsureApp(ctx, t, id) })
}

func (s *Store) GetApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error) {
	return do(ctx, s.p, "get_app", true, func(ctx context.Context) (domain.App, error) { return s.next.GetApp(ctx, t, id) })
}

func (s *Store) ListApps(ctx context.Context, t domain.Tenant) ([]domain.App, error) {
	return do(ctx, s.p, "list_apps", true, func(ctx context.Context) ([]domain.App, error) { return s.next.ListApps(ctx, t) })
}

func (s *Store) UpdateApp(ctx context.Context, t domain.Tenant, id domain.AppID, fn func(*domain.App) error) (domain.App, error) {
	return do(ctx, s.p, "update_app", false, func(ctx context.Context) (domain.App, error) { return s.next.UpdateApp(ctx, t, id, fn) })
}

func (s *Store) RecordAccess(ctx context.Context, t domain.Tenant, entries []domain.Access) error {
	_, err := do(ctx, s.p, "record_access", false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.next.RecordAccess(ctx, t, entries)
	})
	return err
}

type accessPage struct {
	entries []domain.Access
	next    string
}

func (s *Store) ListAccess(ctx context.Context, t domain.Tenant, app domain.AppID, limit int, cursor string) ([]domain.Access, string, error) {
	r, err := do(ctx, s.p, "list_access", true, func(ctx context.Context) (accessPage, error) {
		es, next, err := s.next.ListAccess(ctx, t, app, limit, cursor)
		return accessPage{es, next}, err
	})
	return r.entries, r.next, err
}
