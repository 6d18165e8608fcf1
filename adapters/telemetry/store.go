package telemetry

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

// Store traces and measures a system of record.
type Store struct {
	next StorePorts
	t    *T
	dep  string
}

var _ StorePorts = (*Store)(nil)

// Store decorates next, naming it dep in spans and metrics.
func (t *T) Store(dep string, next StorePorts) *Store { return &Store{next: next, t: t, dep: dep} }

// Unwrap returns the decorated store.
func (s *Store) Unwrap() StorePorts { return s.next }

type created struct {
	m  domain.Memory
	ok bool
}

func (s *Store) Create(ctx context.Context, t domain.Tenant, m domain.Memory) (domain.Memory, bool, error) {
	r, err := call(ctx, s.t, s.dep, "create", func(ctx context.Context) (created, error) {
		st, ok, err := s.next.Create(ctx, t, m)
		return created{st, ok}, err
	})
	return r.m, r.ok, err
}

func (s *Store) CreateBatch(ctx context.Context, t domain.Tenant, ms []domain.Memory) (int, error) {
	return call(ctx, s.t, s.dep, "create_batch", func(ctx context.Context) (int, error) { return s.next.CreateBatch(ctx, t, ms) })
}

func (s *Store) Get(ctx context.Context, t domain.Tenant, id domain.MemoryID) (domain.Memory, error) {
	return call(ctx, s.t, s.dep, "get", func(ctx context.Context) (domain.Memory, error) { return s.next.Get(ctx, t, id) })
}

func (s *Store) Update(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID, fn func(*domain.Memory) error) (domain.Memory, error) {
	return call(ctx, s.t, s.dep, "update", func(ctx context.Context) (domain.Memory, error) { return s.next.Update(ctx, t, id, actor, fn) })
}

func (s *Store) SetState(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, state domain.State, actor domain.AppID) ([]domain.Memory, error) {
	return call(ctx, s.t, s.dep, "set_state", func(ctx context.Context) ([]domain.Memory, error) {
		return s.next.SetState(ctx, t, ids, state, actor)
	})
}

func (s *Store) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, actor domain.AppID) error {
	return run(ctx, s.t, s.dep, "delete", func(ctx context.Context) error { return s.next.Delete(ctx, t, ids, actor) })
}

func (s *Store) Erase(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID) error {
	return run(ctx, s.t, s.dep, "erase", func(ctx context.Context) error { return s.next.Erase(ctx, t, id, actor) })
}

func (s *Store) List(ctx context.Context, t domain.Tenant, q domain.ListQuery) (domain.Page, error) {
	return call(ctx, s.t, s.dep, "list", func(ctx context.Context) (domain.Page, error) { return s.next.List(ctx, t, q) })
}

func (s *Store) History(ctx context.Context, t domain.Tenant, id domain.MemoryID) ([]domain.MemoryChange, error) {
	return call(ctx, s.t, s.dep, "history", func(ctx context.Context) ([]domain.MemoryChange, error) { return s.next.History(ctx, t, id) })
}

func (s *Store) Stats(ctx context.Context, t domain.Tenant) (domain.Stats, error) {
	return call(ctx, s.t, s.dep, "stats", func(ctx context.Context) (domain.Stats, error) { return s.next.Stats(ctx, t) })
}

func (s *Store) EnsureApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error) {
	return call(ctx, s.t, s.dep, "ensure_app", func(ctx context.Context) (domain.App, error) { return s.next.EnsureApp(ctx, t, id) })
}

func (s *Store) GetApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error) {
	return call(ctx, s.t, s.dep, "get_app", func(ctx context.Context) (domain.App, error) { return s.next.GetApp(ctx, t, id) })
}

func (s *Store) ListApps(ctx context.Context, t domain.Tenant) ([]domain.App, error) {
	return call(ctx, s.t, s.dep, "list_apps", func(ctx context.Context) ([]domain.App, error) { return s.next.ListApps(ctx, t) })
}

func (s *Store) UpdateApp(ctx context.Context, t domain.Tenant, id domain.AppID, fn func(*domain.App) error) (domain.App, error) {
	return call(ctx, s.t, s.dep, "update_app", func(ctx context.Context) (domain.App, error) { return s.next.UpdateApp(ctx, t, id, fn) })
}

func (s *Store) RecordAccess(ctx context.Context, t domain.Tenant, entries []domain.Access) error {
	return run(ctx, s.t, s.dep, "record_access", func(ctx context.Context) error { return s.next.RecordAccess(ctx, t, entries) })
}

type accessPage struct {
	entries []domain.Access
	next    string
}

func (s *Store) ListAccess(ctx context.Context, t domain.Tenant, app domain.AppID, limit int, cursor string) ([]domain.Access, string, error) {
	r, err := call(ctx, s.t, s.dep, "list_access", func(ctx context.Context) (accessPage, error) {
		es, next, err := s.next.ListAccess(ctx, t, app, limit, cursor)
		return accessPage{es, next}, err
	})
	return r.entries, r.next, err
}
