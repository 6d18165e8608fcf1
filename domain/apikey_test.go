package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestNewAPIKey(t *testing.T) {
	now := time.Now()
	rec, key, err := domain.NewAPIKey(domain.APIKey{OrgID: "acme", UserID: "alice", Kind: domain.KeyUser, CreatedBy: "alice",
		Scopes: []domain.Scope{domain.ScopeMemoriesRead}}, now)
	require.NoError(t, err)
	require.True(t, domain.LooksLikeKey(key), key)
	require.Equal(t, domain.HashKey(key), rec.Hash)
	require.NotContains(t, rec.Hash, key[4:])
	require.Equal(t, key[:domain.KeyDisplayLen], rec.Display)
	require.NoError(t, rec.Validate())
	_, other, err := domain.NewAPIKey(domain.APIKey{OrgID: "acme", UserID: "alice", Kind: domain.KeyUser, CreatedBy: "alice",
		Scopes: []domain.Scope{domain.ScopeMemoriesRead}}, now)
	require.NoError(t, err)
	require.NotEqual(t, key, other, "keys are random")

	for name, k := range map[string]domain.APIKey{
		"project with a user": {OrgID: "acme", UserID: "alice", Kind: domain.KeyProject, CreatedBy: "alice", Scopes: []domain.Scope{"x"}},
		"user without one":    {OrgID: "acme", Kind: domain.KeyUser, CreatedBy: "alice", Scopes: []domain.Scope{"x"}},
		"no scopes":           {OrgID: "acme", UserID: "a", Kind: domain.KeyUser, CreatedBy: "alice"},
		"expired already":     {OrgID: "acme", UserID: "a", Kind: domain.KeyUser, CreatedBy: "alice", Scopes: []domain.Scope{"x"}, ExpiresAt: now.Add(-time.Second)},
		"long name":           {OrgID: "acme", UserID: "a", Kind: domain.KeyUser, CreatedBy: "alice", Scopes: []domain.Scope{"x"}, Name: strings.Repeat("n", 101)},
		"bad app":             {OrgID: "acme", UserID: "a", Kind: domain.KeyUser, CreatedBy: "alice", Scopes: []domain.Scope{"x"}, AppID: "Bad App"},
	} {
		_, _, err := domain.NewAPIKey(k, now)
		require.ErrorIs(t, err, domain.ErrInvalid, name)
	}
	for _, s := range []string{"", "egm_", key[:len(key)-1], "xgm" + key[3:], key[:10] + "!" + key[11:]} {
		require.False(t, domain.LooksLikeKey(s), s)
	}
}
