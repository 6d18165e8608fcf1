package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// AppStore keeps the clients (apps) of each user. Tenancy and error rules are
// those of MemoryStore: another tenant's app is domain.ErrNotFound.
type AppStore interface {
	// EnsureApp returns the tenant's app with this id, creating it active when
	// it does not exist. Safe under concurrent calls: exactly one row results.
	EnsureApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error)

	// GetApp returns one app or domain.ErrNotFound.
	GetApp(ctx context.Context, t domain.Tenant, id domain.AppID) (domain.App, error)

	// ListApps returns the tenant's apps ordered by id.
	ListApps(ctx context.Context, t domain.Tenant) ([]domain.App, error)

	// UpdateApp lets fn change Description and Active under a row lock and
	// stores the result; fn's error aborts with nothing written.
	UpdateApp(ctx context.Context, t domain.Tenant, id domain.AppID, fn func(*domain.App) error) (domain.App, error)
}

// AccessLog records which app read which memory, for the "accessed by app"
// view. Entries of another tenant are never returned.
type AccessLog interface {
	// RecordAccess appends entries; memories that do not exist for the tenant
	// are skipped silently (a read racing an erase must not fail the read).
	RecordAccess(ctx context.Context, t domain.Tenant, entries []domain.Access) error

	// ListAccess returns the memories app read, most recent access first, one
	// entry per memory (its latest access), at most limit, after cursor.
	// Erased memories are left out.
	ListAccess(ctx context.Context, t domain.Tenant, app domain.AppID, limit int, cursor string) (entries []domain.Access, next string, err error)

	// MemoryAccess returns who read one memory: each app's latest access,
	// most recent first, at most limit (1..MaxListLimit). An unknown,
	// erased or another tenant's memory has none (an empty list, not an
	// error: the caller checks the memory itself).
	MemoryAccess(ctx context.Context, t domain.Tenant, id domain.MemoryID, limit int) ([]domain.Access, error)
}
