package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// Connected applications are credentials: listing or revoking them needs
// keys:write, checked before the store is asked (the store here is nil),
// and a grant id that is no UUID is a 400, not a lookup.
func TestGrantServiceChecksScopeAndID(t *testing.T) {
	g := app.NewGrantService(nil, nil)
	p := domain.Principal{OrgID: "o", UserID: "u", Scopes: []domain.Scope{domain.ScopeMemoriesRead}}
	_, err := g.List(context.Background(), p)
	require.True(t, errors.Is(err, domain.ErrForbidden), "%v", err)
	require.True(t, errors.Is(g.Revoke(context.Background(), p, "01a24544-7737-7000-820e-2c33ef924ffd"), domain.ErrForbidden))
	p.Scopes = []domain.Scope{domain.ScopeKeysWrite}
	require.True(t, errors.Is(g.Revoke(context.Background(), p, "not-a-uuid"), domain.ErrInvalid))
}
