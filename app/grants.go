package app

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// GrantService shows a user the applications connected to their memory
// through the built-in authorization server (their OAuth grants) and
// revokes them. It needs keys:write, like API keys: both are credentials
// that reach the user's data.
type GrantService struct {
	store ports.OAuthStore
	clock ports.Clock
}

// NewGrantService returns the service; clock nil is the system clock.
func NewGrantService(store ports.OAuthStore, clock ports.Clock) *GrantService {
	return &GrantService{store: store, clock: clock}
}

// ConnectedApp is one grant with its client's name ("" when the client is
// gone or gave none).
type ConnectedApp struct {
	Grant      domain.OAuthGrant
	ClientName string
}

// List returns the caller's grants, newest first, revoked ones included.
func (s *GrantService) List(ctx context.Context, p domain.Principal) ([]ConnectedApp, error) {
	if err := p.Require(domain.ScopeKeysWrite); err != nil {
		return nil, err
	}
	gs, err := s.store.ListGrants(ctx, p.Tenant())
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]ConnectedApp, len(gs))
	for i, g := range gs {
		name, ok := names[g.ClientID]
		if !ok {
			if c, err := s.store.GetClient(ctx, g.ClientID); err == nil {
				name = c.Name
			}
			names[g.ClientID] = name
		}
		out[i] = ConnectedApp{Grant: g, ClientName: name}
	}
	return out, nil
}

// Revoke ends one of the caller's grants: its refresh tokens stop working
// at once (access tokens already issued live out their few minutes). A
// grant of someone else is ErrNotFound; revoking twice keeps the first time.
func (s *GrantService) Revoke(ctx context.Context, p domain.Principal, id string) error {
	if err := p.Require(domain.ScopeKeysWrite); err != nil {
		return err
	}
	if !domain.ValidID(id) {
		return domain.Invalid("grant_id", "must be a UUID")
	}
	now := time.Now()
	if s.clock != nil {
		now = s.clock.Now()
	}
	return s.store.RevokeGrant(ctx, p.Tenant(), id, now.UTC())
}
