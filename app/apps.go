package app

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// AppPatch carries the app fields a client may change; nil means keep.
type AppPatch struct {
	Active      *bool
	Description *string
}

// ListApps returns the caller's apps.
func (s *MemoryService) ListApps(ctx context.Context, p domain.Principal) ([]domain.App, error) {
	if err := p.Require(domain.ScopeAppsRead); err != nil {
		return nil, err
	}
	return s.d.Apps.ListApps(ctx, p.Tenant())
}

// GetApp returns one of the caller's apps.
func (s *MemoryService) GetApp(ctx context.Context, p domain.Principal, id domain.AppID) (domain.App, error) {
	if err := p.Require(domain.ScopeAppsRead); err != nil {
		return domain.App{}, err
	}
	if err := domain.ValidateAppID(id); err != nil {
		return domain.App{}, err
	}
	return s.d.Apps.GetApp(ctx, p.Tenant(), id)
}

// UpdateApp pauses or resumes an app or changes its description.
func (s *MemoryService) UpdateApp(ctx context.Context, p domain.Principal, id domain.AppID, patch AppPatch) (domain.App, error) {
	if err := p.Require(domain.ScopeAppsWrite); err != nil {
		return domain.App{}, err
	}
	if err := domain.ValidateAppID(id); err != nil {
		return domain.App{}, err
	}
	if patch.Active == nil && patch.Description == nil {
		return domain.App{}, domain.Invalid("body", "names no field to change (is_active, description)")
	}
	return s.d.Apps.UpdateApp(ctx, p.Tenant(), id, func(a *domain.App) error {
		if patch.Active != nil {
			a.Active = *patch.Active
		}
		if patch.Description != nil {
			a.Description = *patch.Description
		}
		return a.Validate()
	})
}

// AppAccessed lists the memories an app has read, most recent first.
func (s *MemoryService) AppAccessed(ctx context.Context, p domain.Principal, id domain.AppID, limit int, cursor string) ([]domain.Access, string, error) {
	if err := p.Require(domain.ScopeAppsRead); err != nil {
		return nil, "", err
	}
	// Reads are logged asynchronously; write what is queued (including the
	// first use of this app) so the caller sees its own reads.
	s.access.flush(ctx, p.Tenant())
	if _, err := s.GetApp(ctx, p, id); err != nil {
		return nil, "", err
	}
	limit, err := listLimit(limit, domain.DefaultListLimit, domain.MaxListLimit)
	if err != nil {
		return nil, "", err
	}
	return s.d.Access.ListAccess(ctx, p.Tenant(), id, limit, cursor)
}

// MemoryAccess lists who read one memory: each app's latest access, most
// recent first. The memory must be the caller's (another tenant's is not
// found, like a read of it).
func (s *MemoryService) MemoryAccess(ctx context.Context, p domain.Principal, id domain.MemoryID, limit int) ([]domain.Access, error) {
	if err := p.Require(domain.ScopeMemoriesRead); err != nil {
		return nil, err
	}
	limit, err := listLimit(limit, domain.DefaultListLimit, domain.MaxListLimit)
	if err != nil {
		return nil, err
	}
	// The caller's own reads are queued asynchronously: write them first.
	s.access.flush(ctx, p.Tenant())
	if _, err := s.d.Memories.Get(ctx, p.Tenant(), id); err != nil {
		return nil, err
	}
	return s.d.Access.MemoryAccess(ctx, p.Tenant(), id, limit)
}
