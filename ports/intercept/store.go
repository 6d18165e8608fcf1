package intercept

import (
	"context"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Store is the system of record's core: its memories, apps and access log.
// SQLite and PostgreSQL implement all three; this is the one place the
// union is declared.
type Store interface {
	ports.MemoryStore
	ports.AppStore
	ports.AccessLog
}

// WrapStore decorates a system of record's memories, apps and access log.
// Writes (Create, CreateBatch, Update, whose callback must not run twice,
// SetState, Delete, Erase, UpdateApp, RecordAccess, which appends) are never
// retried.
func WrapStore(next Store, dep string, ic Interceptor) Store {
	return store{base{dep, ic}, next}
}

type store struct {
	base
	next Store
}

func (s store) Create(ctx context.Context, t domain.Tenant, m domain.Memory) (out domain.Memory, created bool, err error) {
	err = s.do(ctx, "create", write, func(ctx context.Context) (e error) { out, created, e = s.next.Create(ctx, t, m); return })
	return out, created, err
}

func (s store) CreateBatch(ctx context.Context, t domain.Tenant, ms []domain.Memory) (n int, err error) {
	err = s.do(ctx, "create_batch", write, func(ctx context.Context) (e error) { n, e = s.next.CreateBatch(ctx, t, ms); return })
	return n, err
}

func (s store) Get(ctx context.Context, t domain.Tenant, id domain.MemoryID) (m domain.Memory, err error) {
	err = s.do(ctx, "get", read, func(ctx context.Context) (e error) { m, e = s.next.Get(ctx, t, id); return })
	return m, err
}

func (s store) Update(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID, fn func(*domain.Memory) error) (m domain.Memory, err error) {
	err = s.do(ctx, "update", write, func(ctx context.Context) (e error) { m, e = s.next.Update(ctx, t, id, actor, fn); return })
	return m, err
}

func (s store) SetState(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, st domain.State, actor domain.AppID) (ms []domain.Memory, err error) {
	err = s.do(ctx, "set_state", write, func(ctx context.Context) (e error) { ms, e = s.next.SetState(ctx, t, ids, st, actor); return })
	return ms, err
}

func (s store) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, actor domain.AppID) error {
	return s.do(ctx, "delete", write, func(ctx context.Context) error { return s.next.Delete(ctx, t, ids, actor) })
}

func (s store) Erase(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID) error {
	return s.do(ctx, "erase", write, func(ctx context.Context) error { return s.next.Erase(ctx, t, id, actor) })
}

func (s store) List(ctx context.Context, t domain.Tenant, q domain.ListQuery) (p domain.Page, err error) {
	err = s.do(ctx, "list", read, func(ctx context.Context) (e error) { p, e = s.next.List(ctx, t, q); return })
	return p, err
}

func (s store) History(ctx context.Context, t domain.Tenant, id domain.MemoryID) (h []domain.MemoryChange, err error) {
	err = s.do(ctx, "history", read, func(ctx context.Context) (e error) { h, e = s.next.History(ctx, t, id); return })
	return h, err
}

func (s store) Stats(ctx context.Context, t domain.Tenant) (st domain.Stats, err error) {
	err = s.do(ctx, "stats", read, func(ctx context.Context) (e error) { st, e = s.next.Stats(ctx, t); return })
	return st, err
}

func (s store) EnsureApp(ctx context.Context, t domain.Tenant, id domain.AppID) (a domain.App, err error) {
	err = s.do(ctx, "ensure_app", read, func(ctx context.Context) (e error) { a, e = s.next.EnsureApp(ctx, t, id); return })
	return a, err
}

func (s store) GetApp(ctx context.Context, t domain.Tenant, id domain.AppID) (a domain.App, err error) {
	err = s.do(ctx, "get_app", read, func(ctx context.Context) (e error) { a, e = s.next.GetApp(ctx, t, id); return })
	return a, err
}

func (s store) ListApps(ctx context.Context, t domain.Tenant) (as []domain.App, err error) {
	err = s.do(ctx, "list_apps", read, func(ctx context.Context) (e error) { as, e = s.next.ListApps(ctx, t); return })
	return as, err
}

func (s store) UpdateApp(ctx context.Context, t domain.Tenant, id domain.AppID, fn func(*domain.App) error) (a domain.App, err error) {
	err = s.do(ctx, "update_app", write, func(ctx context.Context) (e error) { a, e = s.next.UpdateApp(ctx, t, id, fn); return })
	return a, err
}

func (s store) RecordAccess(ctx context.Context, t domain.Tenant, entries []domain.Access) error {
	return s.do(ctx, "record_access", write, func(ctx context.Context) error { return s.next.RecordAccess(ctx, t, entries) })
}

func (s store) ListAccess(ctx context.Context, t domain.Tenant, app domain.AppID, limit int, cursor string) (es []domain.Access, next string, err error) {
	err = s.do(ctx, "list_access", read, func(ctx context.Context) (e error) {
		es, next, e = s.next.ListAccess(ctx, t, app, limit, cursor)
		return
	})
	return es, next, err
}

func (s store) MemoryAccess(ctx context.Context, t domain.Tenant, id domain.MemoryID, limit int) (es []domain.Access, err error) {
	err = s.do(ctx, "memory_access", read, func(ctx context.Context) (e error) {
		es, e = s.next.MemoryAccess(ctx, t, id, limit)
		return
	})
	return es, err
}
