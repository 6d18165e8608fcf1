package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// CredentialBackend is an ErasureBackend that also keeps API keys and the
// authorization server's users and grants, which erasure must reach.
type CredentialBackend interface {
	ErasureBackend
	ports.KeyStore
	ports.OAuthStore
}

// RunCredentialErasure checks that EraseSubjectData deletes a subject's
// API keys, sign-in user, grants and their tokens (not revokes them), and
// takes the subject's id out of keys it issued for others, while another
// user's and another org's credentials stay.
func RunCredentialErasure(t *testing.T, newStore func(t *testing.T) CredentialBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, CredentialBackend)
	}{
		{"Subject/DeletesKeysAndSignIn", testEraseCredentialsUser},
		{"Subject/WholeOrgDeletesEveryCredential", testEraseCredentialsOrg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

type seededCredentials struct {
	userKey, projectKey domain.APIKey // alice's key; a project key alice issued
	grantToken          string        // hash of the code of alice's grant
}

func seedCredentials(t *testing.T, s CredentialBackend, tn domain.Tenant) seededCredentials {
	ctx := ctxFor(t)
	uk, _ := newKey(t, s, tn, domain.KeyUser)
	pk, _ := newKey(t, s, tn, domain.KeyProject)
	now := usec(time.Now())
	require.NoError(t, s.PutUser(ctx, domain.OAuthUser{OrgID: tn.OrgID, UserID: tn.UserID, PasswordHash: "pbkdf2$x", CreatedAt: now, UpdatedAt: now}))
	g, code := newGrant(t, tn.OrgID, tn.UserID)
	require.NoError(t, s.CreateGrant(ctx, g, code))
	return seededCredentials{userKey: uk, projectKey: pk, grantToken: code.Hash}
}

func requireCredentialsGone(t *testing.T, s CredentialBackend, tn domain.Tenant, c seededCredentials) {
	t.Helper()
	ctx := ctxFor(t)
	_, err := s.LookupKey(ctx, c.userKey.Hash)
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.GetKey(ctx, tn.OrgID, c.userKey.ID)
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.GetUser(ctx, tn.OrgID, tn.UserID)
	requireKind(t, err, domain.ErrNotFound)
	grants, err := s.ListGrants(ctx, tn)
	require.NoError(t, err)
	require.Empty(t, grants, "grants are deleted, not revoked")
	_, err = s.UseToken(ctx, c.grantToken, time.Now(), domain.OAuthToken{}, nil)
	requireKind(t, err, domain.ErrNotFound)
}

func requireCredentialsKept(t *testing.T, s CredentialBackend, tn domain.Tenant, c seededCredentials) {
	t.Helper()
	ctx := ctxFor(t)
	k, err := s.LookupKey(ctx, c.userKey.Hash)
	require.NoError(t, err)
	require.True(t, k.RevokedAt.IsZero())
	require.Equal(t, "laptop", k.Name)
	_, err = s.GetUser(ctx, tn.OrgID, tn.UserID)
	require.NoError(t, err)
	grants, err := s.ListGrants(ctx, tn)
	require.NoError(t, err)
	require.Len(t, grants, 1)
	require.True(t, grants[0].RevokedAt.IsZero())
}

func testEraseCredentialsUser(t *testing.T, s CredentialBackend) {
	ctx := ctxFor(t)
	alice := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	bob := domain.Tenant{OrgID: "org-a", UserID: "bob"}
	otherAlice := domain.Tenant{OrgID: "org-b", UserID: "alice"}
	ca, cb, co := seedCredentials(t, s, alice), seedCredentials(t, s, bob), seedCredentials(t, s, otherAlice)

	got := eraseAll(t, s, domain.Subject{OrgID: "org-a", UserID: "alice"})
	require.EqualValues(t, 1, got[domain.StoreAPIKeys], "alice's own key is deleted")
	require.EqualValues(t, 2, got[domain.StoreOAuth], "her sign-in user and her grant")
	requireCredentialsGone(t, s, alice, ca)

	// The project key alice issued belongs to the org and stays, without
	// her id.
	pk, err := s.GetKey(ctx, "org-a", ca.projectKey.ID)
	require.NoError(t, err)
	require.NotEqual(t, domain.UserID("alice"), pk.CreatedBy)
	require.NoError(t, pk.Validate())
	keys, err := s.ListKeys(ctx, "org-a", "")
	require.NoError(t, err)
	for _, k := range keys {
		require.NotEqual(t, domain.UserID("alice"), k.UserID)
		require.NotEqual(t, domain.UserID("alice"), k.CreatedBy)
	}

	requireCredentialsKept(t, s, bob, cb)
	requireCredentialsKept(t, s, otherAlice, co)
	bobs, err := s.GetKey(ctx, "org-a", cb.projectKey.ID)
	require.NoError(t, err)
	require.Equal(t, domain.UserID("bob"), bobs.CreatedBy)

	again := eraseAll(t, s, domain.Subject{OrgID: "org-a", UserID: "alice"})
	require.Zero(t, again[domain.StoreAPIKeys], "erasing twice finds no key")
	require.Zero(t, again[domain.StoreOAuth], "erasing twice finds no sign-in data")
}

func testEraseCredentialsOrg(t *testing.T, s CredentialBackend) {
	ctx := ctxFor(t)
	alice := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	bob := domain.Tenant{OrgID: "org-a", UserID: "bob"}
	otherAlice := domain.Tenant{OrgID: "org-b", UserID: "alice"}
	ca, cb, co := seedCredentials(t, s, alice), seedCredentials(t, s, bob), seedCredentials(t, s, otherAlice)

	got := eraseAll(t, s, domain.Subject{OrgID: "org-a"})
	require.EqualValues(t, 4, got[domain.StoreAPIKeys], "every key of the org, project keys included")
	require.EqualValues(t, 4, got[domain.StoreOAuth])
	requireCredentialsGone(t, s, alice, ca)
	requireCredentialsGone(t, s, bob, cb)
	keys, err := s.ListKeys(ctx, "org-a", "")
	require.NoError(t, err)
	require.Empty(t, keys)
	requireCredentialsKept(t, s, otherAlice, co)
}
