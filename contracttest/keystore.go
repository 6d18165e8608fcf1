package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RunKeyStore runs the KeyStore contract (ports/keystore.go) against stores
// made by newStore, one isolated store per parallel subtest.
//
// Semantics the port's doc leaves open and this suite pins down: times
// round-trip to the microsecond; a record's scopes keep their order; the
// lookup by hash ignores the org entirely (it is how a caller is found).
func RunKeyStore(t *testing.T, newStore func(t *testing.T) ports.KeyStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s ports.KeyStore)
	}{
		{"Create/LookupByHash", testKeyLookup},
		{"Create/DuplicateIsAlreadyExists", testKeyDuplicate},
		{"Create/InvalidRecord", testKeyInvalid},
		{"Lookup/UnknownIsNotFound", func(t *testing.T, s ports.KeyStore) {
			_, err := s.LookupKey(ctxFor(t), domain.HashKey("egm_never-issued"))
			requireKind(t, err, domain.ErrNotFound)
		}},
		{"List/UserKeysNewestFirst", testKeyList},
		{"Revoke/KeepsFirstTimeAndShowsInLookup", testKeyRevoke},
		{"Touch/NeverMovesBackwards", testKeyTouch},
		{"Tenancy/OtherOrgIsNotFound", testKeyTenancy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// newKey mints a key of kind for tn through the domain constructor.
func newKey(t *testing.T, s ports.KeyStore, tn domain.Tenant, kind domain.KeyKind) (domain.APIKey, string) {
	t.Helper()
	k := domain.APIKey{OrgID: tn.OrgID, Kind: kind, Name: "laptop", CreatedBy: tn.UserID,
		Scopes: []domain.Scope{domain.ScopeMemoriesWrite, domain.ScopeMemoriesRead}, AppID: "cursor",
		ExpiresAt: time.Now().Add(time.Hour)}
	if kind == domain.KeyUser {
		k.UserID = tn.UserID
	}
	rec, secret, err := domain.NewAPIKey(k, time.Now())
	require.NoError(t, err)
	require.NoError(t, s.CreateKey(ctxFor(t), rec))
	return rec, secret
}

func requireSameKey(t *testing.T, want, got domain.APIKey) {
	t.Helper()
	for _, p := range []*domain.APIKey{&want, &got} {
		p.CreatedAt = p.CreatedAt.Truncate(time.Microsecond)
		p.ExpiresAt = p.ExpiresAt.Truncate(time.Microsecond)
		p.LastUsedAt = p.LastUsedAt.Truncate(time.Microsecond)
		p.RevokedAt = p.RevokedAt.Truncate(time.Microsecond)
	}
	require.True(t, want.CreatedAt.Equal(got.CreatedAt), "CreatedAt %s != %s", want.CreatedAt, got.CreatedAt)
	require.True(t, want.ExpiresAt.Equal(got.ExpiresAt), "ExpiresAt %s != %s", want.ExpiresAt, got.ExpiresAt)
	require.True(t, want.LastUsedAt.Equal(got.LastUsedAt), "LastUsedAt")
	require.True(t, want.RevokedAt.Equal(got.RevokedAt), "RevokedAt")
	want.CreatedAt, want.ExpiresAt, want.LastUsedAt, want.RevokedAt = got.CreatedAt, got.ExpiresAt, got.LastUsedAt, got.RevokedAt
	require.Equal(t, want, got)
}

func testKeyLookup(t *testing.T, s ports.KeyStore) {
	tn := newTenant(t)
	for _, kind := range []domain.KeyKind{domain.KeyUser, domain.KeyProject} {
		rec, secret := newKey(t, s, tn, kind)
		got, err := s.LookupKey(ctxFor(t), domain.HashKey(secret))
		require.NoError(t, err)
		requireSameKey(t, rec, got)
		require.Equal(t, kind, got.Kind)
		require.NotContains(t, got.Hash+got.Display+got.Name, secret, "the key itself is never stored")
	}
}

func testKeyDuplicate(t *testing.T, s ports.KeyStore) {
	tn := newTenant(t)
	rec, _ := newKey(t, s, tn, domain.KeyUser)
	err := s.CreateKey(ctxFor(t), rec)
	requireKind(t, err, domain.ErrAlreadyExists, "same id and hash")
	other := rec
	other.ID = domain.NewID(time.Now())
	requireKind(t, s.CreateKey(ctxFor(t), other), domain.ErrAlreadyExists, "same hash")
}

func testKeyInvalid(t *testing.T, s ports.KeyStore) {
	tn := newTenant(t)
	rec, _, err := domain.NewAPIKey(domain.APIKey{OrgID: tn.OrgID, UserID: tn.UserID, Kind: domain.KeyUser,
		CreatedBy: tn.UserID, Scopes: []domain.Scope{domain.ScopeMemoriesRead}}, time.Now())
	require.NoError(t, err)
	for name, mut := range map[string]func(*domain.APIKey){
		"no hash":           func(k *domain.APIKey) { k.Hash = "" },
		"project with user": func(k *domain.APIKey) { k.Kind = domain.KeyProject },
		"user without user": func(k *domain.APIKey) { k.UserID = "" },
		"no scopes":         func(k *domain.APIKey) { k.Scopes = nil },
		"bad org":           func(k *domain.APIKey) { k.OrgID = "" },
	} {
		bad := rec
		mut(&bad)
		requireKind(t, s.CreateKey(ctxFor(t), bad), domain.ErrInvalid, name)
	}
}

func testKeyList(t *testing.T, s ports.KeyStore) {
	tn := newTenant(t)
	first, _ := newKey(t, s, tn, domain.KeyUser)
	second, _ := newKey(t, s, tn, domain.KeyUser)
	project, _ := newKey(t, s, tn, domain.KeyProject)
	other := domain.Tenant{OrgID: tn.OrgID, UserID: "someone-else"}
	theirs, _ := newKey(t, s, other, domain.KeyUser)

	mine, err := s.ListKeys(ctxFor(t), tn.OrgID, tn.UserID)
	require.NoError(t, err)
	require.Len(t, mine, 2)
	require.Equal(t, []string{second.ID, first.ID}, []string{mine[0].ID, mine[1].ID})

	all, err := s.ListKeys(ctxFor(t), tn.OrgID, "")
	require.NoError(t, err)
	ids := make([]string, len(all))
	for i, k := range all {
		ids[i] = k.ID
	}
	require.Equal(t, []string{theirs.ID, project.ID, second.ID, first.ID}, ids)
}

func testKeyRevoke(t *testing.T, s ports.KeyStore) {
	tn := newTenant(t)
	rec, secret := newKey(t, s, tn, domain.KeyUser)
	at := time.Now().Add(-time.Minute).UTC()
	got, err := s.RevokeKey(ctxFor(t), tn.OrgID, rec.ID, at)
	require.NoError(t, err)
	require.WithinDuration(t, at, got.RevokedAt, time.Microsecond)
	again, err := s.RevokeKey(ctxFor(t), tn.OrgID, rec.ID, at.Add(time.Hour))
	require.NoError(t, err, "revoking twice succeeds")
	require.WithinDuration(t, at, again.RevokedAt, time.Microsecond, "the first revocation time stays")
	seen, err := s.LookupKey(ctxFor(t), domain.HashKey(secret))
	require.NoError(t, err)
	require.WithinDuration(t, at, seen.RevokedAt, time.Microsecond)
	require.Error(t, seen.Usable("Token", time.Now()))
}

func testKeyTouch(t *testing.T, s ports.KeyStore) {
	tn := newTenant(t)
	rec, _ := newKey(t, s, tn, domain.KeyUser)
	later := time.Now().Add(time.Minute).UTC()
	require.NoError(t, s.TouchKey(ctxFor(t), tn.OrgID, rec.ID, later))
	require.NoError(t, s.TouchKey(ctxFor(t), tn.OrgID, rec.ID, later.Add(-time.Hour)))
	got, err := s.GetKey(ctxFor(t), tn.OrgID, rec.ID)
	require.NoError(t, err)
	require.WithinDuration(t, later, got.LastUsedAt, time.Microsecond)
	requireKind(t, s.TouchKey(ctxFor(t), tn.OrgID, domain.NewID(time.Now()), later), domain.ErrNotFound)
}

func testKeyTenancy(t *testing.T, s ports.KeyStore) {
	tn, other := newTenant(t), newTenant(t)
	rec, secret := newKey(t, s, tn, domain.KeyProject)
	_, err := s.GetKey(ctxFor(t), other.OrgID, rec.ID)
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.RevokeKey(ctxFor(t), other.OrgID, rec.ID, time.Now())
	requireKind(t, err, domain.ErrNotFound)
	requireKind(t, s.TouchKey(ctxFor(t), other.OrgID, rec.ID, time.Now()), domain.ErrNotFound)
	listed, err := s.ListKeys(ctxFor(t), other.OrgID, "")
	require.NoError(t, err)
	require.Empty(t, listed)
	got, err := s.LookupKey(ctxFor(t), domain.HashKey(secret))
	require.NoError(t, err)
	require.True(t, got.RevokedAt.IsZero(), "another org's revoke changed nothing")
}
