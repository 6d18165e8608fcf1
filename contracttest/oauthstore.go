package contracttest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// OAuthBackend is an OAuthStore that the retention sweeper also reaches
// (RetentionStore.PurgeExpiredOAuthTokens deletes its long-expired codes
// and refresh tokens).
type OAuthBackend interface {
	ports.OAuthStore
	ports.RetentionStore
}

// RunOAuthStore runs the OAuthStore contract (ports/oauthstore.go) and the
// sweeper's part of it against stores made by newStore, one isolated store
// per parallel subtest.
//
// Semantics the port leaves open and this suite pins down: times round-trip
// to the microsecond; a grant's scopes and a client's redirect URIs keep
// their order.
func RunOAuthStore(t *testing.T, newStore func(t *testing.T) OAuthBackend) {
	cases := []struct {
		name string
		run  func(t *testing.T, s OAuthBackend)
	}{
		{"Client/RoundTrip", testOAuthClient},
		{"Client/DuplicateIsAlreadyExists", testOAuthClientDuplicate},
		{"Client/UnknownIsNotFound", func(t *testing.T, s OAuthBackend) {
			_, err := s.GetClient(ctxFor(t), "never-registered")
			requireKind(t, err, domain.ErrNotFound)
		}},
		{"User/PutReplacesButKeepsCreatedAt", testOAuthUser},
		{"User/OtherOrgIsNotFound", testOAuthUserTenancy},
		{"Grant/CodeThenRefreshRotates", testOAuthRotate},
		{"Grant/ReusedTokenRevokesFamily", testOAuthReuse},
		{"Grant/FailedCheckWritesNothing", testOAuthCheck},
		{"Grant/ConcurrentUseOneWins", testOAuthConcurrent},
		{"Grant/UnknownHashIsNotFound", func(t *testing.T, s OAuthBackend) {
			_, err := s.UseToken(ctxFor(t), randomHash(), time.Now(), domain.OAuthToken{}, nil)
			requireKind(t, err, domain.ErrNotFound)
			requireKind(t, s.RevokeByToken(ctxFor(t), randomHash(), time.Now()), domain.ErrNotFound)
		}},
		{"Grant/RevokeByTokenEndsFamily", testOAuthRevokeByToken},
		{"Grant/ListAndRevokeAreTenantScoped", testOAuthGrantTenancy},
		{"Grant/ExpiredBeyondGraceAreSwept", testOAuthSweep},
		{"Grant/InvalidIsRefused", func(t *testing.T, s OAuthBackend) {
			g, code := newGrant(t, "org-a", "u1")
			g.OrgID = "bad org"
			requireKind(t, s.CreateGrant(ctxFor(t), g, code), domain.ErrInvalid)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

func randomHash() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	s := sha256.Sum256(b[:])
	return hex.EncodeToString(s[:])
}

func usec(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func newGrant(t *testing.T, org domain.OrgID, user domain.UserID) (domain.OAuthGrant, domain.OAuthToken) {
	t.Helper()
	now := usec(time.Now())
	g := domain.OAuthGrant{
		ID: domain.NewID(now), OrgID: org, UserID: user, ClientID: "client-1",
		Scopes:      []domain.Scope{domain.ScopeMemoriesWrite, domain.ScopeMemoriesRead},
		RedirectURI: "http://127.0.0.1:3334/callback", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CreatedAt: now,
	}
	return g, domain.OAuthToken{Hash: randomHash(), Kind: domain.OAuthCode, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
}

func refreshToken() domain.OAuthToken {
	now := usec(time.Now())
	return domain.OAuthToken{Hash: randomHash(), Kind: domain.OAuthRefresh, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func testOAuthClient(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	c := domain.OAuthClient{ID: "c-" + randomHash()[:16], Name: "mcp-remote",
		RedirectURIs: []string{"http://127.0.0.1:3334/oauth/callback", "https://app.example/cb"}, CreatedAt: usec(time.Now())}
	require.NoError(t, s.CreateClient(ctx, c))
	got, err := s.GetClient(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, c.Name, got.Name)
	require.Equal(t, c.RedirectURIs, got.RedirectURIs)
	require.True(t, c.CreatedAt.Equal(got.CreatedAt), "created_at %v != %v", got.CreatedAt, c.CreatedAt)
	c.Name = ""
	c.RedirectURIs = nil
	requireKind(t, s.CreateClient(ctx, c), domain.ErrInvalid)
}

func testOAuthClientDuplicate(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	c := domain.OAuthClient{ID: "dup", Name: "a", RedirectURIs: []string{"https://a.example/cb"}, CreatedAt: time.Now()}
	require.NoError(t, s.CreateClient(ctx, c))
	requireKind(t, s.CreateClient(ctx, c), domain.ErrAlreadyExists)
}

func testOAuthUser(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	t0 := usec(time.Now().Add(-time.Hour))
	u := domain.OAuthUser{OrgID: "org-a", UserID: "alice", PasswordHash: "h1", CreatedAt: t0, UpdatedAt: t0}
	require.NoError(t, s.PutUser(ctx, u))
	t1 := usec(time.Now())
	u2 := domain.OAuthUser{OrgID: "org-a", UserID: "alice", CodeHash: randomHash(), CodeExpiresAt: t1.Add(time.Hour),
		CreatedAt: t1, UpdatedAt: t1}
	require.NoError(t, s.PutUser(ctx, u2))
	got, err := s.GetUser(ctx, "org-a", "alice")
	require.NoError(t, err)
	require.Empty(t, got.PasswordHash, "PutUser replaces every field")
	require.Equal(t, u2.CodeHash, got.CodeHash)
	require.True(t, got.CodeExpiresAt.Equal(u2.CodeExpiresAt))
	require.True(t, got.CreatedAt.Equal(t0), "created_at stays the first")
	require.True(t, got.UpdatedAt.Equal(t1))
	requireKind(t, s.PutUser(ctx, domain.OAuthUser{OrgID: "org a", UserID: "x", CreatedAt: t1, UpdatedAt: t1}), domain.ErrInvalid)
}

func testOAuthUserTenancy(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	now := time.Now()
	require.NoError(t, s.PutUser(ctx, domain.OAuthUser{OrgID: "org-a", UserID: "bob", PasswordHash: "h", CreatedAt: now, UpdatedAt: now}))
	_, err := s.GetUser(ctx, "org-b", "bob")
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.GetUser(ctx, "org-a", "carol")
	requireKind(t, err, domain.ErrNotFound)
}

func testOAuthRotate(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	g, code := newGrant(t, "org-a", "u1")
	require.NoError(t, s.CreateGrant(ctx, g, code))
	r1 := refreshToken()
	var seen domain.OAuthToken
	got, err := s.UseToken(ctx, code.Hash, time.Now(), r1, func(g domain.OAuthGrant, tok domain.OAuthToken) error {
		seen = tok
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, g.ID, got.ID)
	require.Equal(t, g.Scopes, got.Scopes)
	require.Equal(t, g.RedirectURI, got.RedirectURI)
	require.Equal(t, g.CodeChallenge, got.CodeChallenge)
	require.Equal(t, domain.OAuthCode, seen.Kind)
	require.True(t, seen.ExpiresAt.Equal(code.ExpiresAt))
	require.True(t, seen.UsedAt.IsZero())

	r2 := refreshToken()
	got, err = s.UseToken(ctx, r1.Hash, time.Now(), r2, func(_ domain.OAuthGrant, tok domain.OAuthToken) error {
		seen = tok
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, g.ID, got.ID)
	require.Equal(t, domain.OAuthRefresh, seen.Kind)
	require.Equal(t, g.ID, seen.GrantID)
	// the newest refresh token is live
	_, err = s.UseToken(ctx, r2.Hash, time.Now(), domain.OAuthToken{}, nil)
	require.NoError(t, err)
}

func testOAuthReuse(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	g, code := newGrant(t, "org-a", "u1")
	require.NoError(t, s.CreateGrant(ctx, g, code))
	r1 := refreshToken()
	_, err := s.UseToken(ctx, code.Hash, time.Now(), r1, nil)
	require.NoError(t, err)
	// The code presented again: conflict, and the family is revoked, so
	// the refresh token issued from it is dead too.
	_, err = s.UseToken(ctx, code.Hash, time.Now(), refreshToken(), nil)
	requireKind(t, err, domain.ErrConflict)
	_, err = s.UseToken(ctx, r1.Hash, time.Now(), refreshToken(), nil)
	requireKind(t, err, domain.ErrNotFound)
	grants, err := s.ListGrants(ctx, domain.Tenant{OrgID: "org-a", UserID: "u1"})
	require.NoError(t, err)
	require.Len(t, grants, 1)
	require.False(t, grants[0].RevokedAt.IsZero(), "reuse revokes the grant")
}

func testOAuthCheck(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	g, code := newGrant(t, "org-a", "u1")
	require.NoError(t, s.CreateGrant(ctx, g, code))
	refused := errors.New("wrong verifier")
	next := refreshToken()
	_, err := s.UseToken(ctx, code.Hash, time.Now(), next, func(domain.OAuthGrant, domain.OAuthToken) error { return refused })
	require.ErrorIs(t, err, refused)
	_, err = s.UseToken(ctx, next.Hash, time.Now(), domain.OAuthToken{}, nil)
	requireKind(t, err, domain.ErrNotFound, "the next token was not stored")
	_, err = s.UseToken(ctx, code.Hash, time.Now(), next, nil)
	require.NoError(t, err, "the code was not spent by the refused check")
}

func testOAuthConcurrent(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	g, code := newGrant(t, "org-a", "u1")
	require.NoError(t, s.CreateGrant(ctx, g, code))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.UseToken(ctx, code.Hash, time.Now(), refreshToken(), nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.True(t, errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrNotFound), "unexpected error %v", err)
		}
	}
	require.Equal(t, 1, ok, "exactly one use of a code succeeds")
}

func testOAuthRevokeByToken(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	g, code := newGrant(t, "org-a", "u1")
	require.NoError(t, s.CreateGrant(ctx, g, code))
	r1 := refreshToken()
	_, err := s.UseToken(ctx, code.Hash, time.Now(), r1, nil)
	require.NoError(t, err)
	at := usec(time.Now())
	require.NoError(t, s.RevokeByToken(ctx, r1.Hash, at))
	require.NoError(t, s.RevokeByToken(ctx, r1.Hash, at.Add(time.Hour)), "revoking twice succeeds")
	_, err = s.UseToken(ctx, r1.Hash, time.Now(), refreshToken(), nil)
	requireKind(t, err, domain.ErrNotFound)
	grants, err := s.ListGrants(ctx, domain.Tenant{OrgID: "org-a", UserID: "u1"})
	require.NoError(t, err)
	require.True(t, grants[0].RevokedAt.Equal(at), "the first revocation time stays")
}

func testOAuthGrantTenancy(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	ga, ca := newGrant(t, "org-a", "u1")
	require.NoError(t, s.CreateGrant(ctx, ga, ca))
	time.Sleep(2 * time.Millisecond) // UUIDv7 order is by millisecond
	ga2, ca2 := newGrant(t, "org-a", "u1")
	require.NoError(t, s.CreateGrant(ctx, ga2, ca2))
	gb, cb := newGrant(t, "org-b", "u1")
	require.NoError(t, s.CreateGrant(ctx, gb, cb))

	list, err := s.ListGrants(ctx, domain.Tenant{OrgID: "org-a", UserID: "u1"})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, ga2.ID, list[0].ID, "newest first")
	list, err = s.ListGrants(ctx, domain.Tenant{OrgID: "org-a", UserID: "u2"})
	require.NoError(t, err)
	require.Empty(t, list)

	requireKind(t, s.RevokeGrant(ctx, domain.Tenant{OrgID: "org-a", UserID: "u1"}, gb.ID, time.Now()), domain.ErrNotFound)
	requireKind(t, s.RevokeGrant(ctx, domain.Tenant{OrgID: "org-b", UserID: "u2"}, gb.ID, time.Now()), domain.ErrNotFound)
	_, err = s.UseToken(ctx, cb.Hash, time.Now(), domain.OAuthToken{}, nil)
	require.NoError(t, err, "org-b's grant survived the refused revocations")
	require.NoError(t, s.RevokeGrant(ctx, domain.Tenant{OrgID: "org-a", UserID: "u1"}, ga.ID, time.Now()))
	require.NoError(t, s.RevokeGrant(ctx, domain.Tenant{OrgID: "org-a", UserID: "u1"}, ga.ID, time.Now()), "idempotent")
	_, err = s.UseToken(ctx, ca.Hash, time.Now(), domain.OAuthToken{}, nil)
	requireKind(t, err, domain.ErrNotFound)
}

// testOAuthSweep: the sweep deletes codes expired over an hour ago and
// refresh tokens expired over a day ago, used or not; a rotated refresh
// token expired within the day stays, and presenting it again still
// revokes its family; live tokens, recently expired codes and every other
// org's tokens stay; an org whose users only connected OAuth clients is
// one the sweeper visits.
func testOAuthSweep(t *testing.T, s OAuthBackend) {
	ctx := ctxFor(t)
	now := usec(time.Now())
	// token stores a grant of org whose first token is of kind and expires
	// at expires (issued a lifetime before).
	token := func(org domain.OrgID, kind domain.OAuthTokenKind, expires time.Time) domain.OAuthToken {
		g, tok := newGrant(t, org, "u1")
		tok.Kind, tok.CreatedAt, tok.ExpiresAt = kind, expires.Add(-30*24*time.Hour), expires
		require.NoError(t, s.CreateGrant(ctx, g, tok))
		return tok
	}
	// used stores a refresh token that expires at expires and was rotated
	// (spent for a live successor) before it expired.
	used := func(org domain.OrgID, expires time.Time) domain.OAuthToken {
		tok := token(org, domain.OAuthRefresh, expires)
		_, err := s.UseToken(ctx, tok.Hash, expires.Add(-time.Hour), refreshToken(), nil)
		require.NoError(t, err)
		return tok
	}
	codeGone := token("org-sweep-a", domain.OAuthCode, now.Add(-2*time.Hour))
	codeKept := token("org-sweep-a", domain.OAuthCode, now.Add(-30*time.Minute))
	refreshGone := token("org-sweep-a", domain.OAuthRefresh, now.Add(-25*time.Hour))
	rotatedGone := used("org-sweep-a", now.Add(-25*time.Hour))
	rotatedKept := used("org-sweep-a", now.Add(-2*time.Hour))
	live := token("org-sweep-a", domain.OAuthRefresh, now.Add(time.Hour))
	otherOrg := token("org-sweep-b", domain.OAuthCode, now.Add(-2*time.Hour))

	orgs, err := s.SweepOrgs(ctx)
	require.NoError(t, err)
	require.Contains(t, orgs, domain.OrgID("org-sweep-a"), "an org with only OAuth tokens is swept")

	n, err := s.PurgeExpiredOAuthTokens(ctx, "org-sweep-a", now.Add(-domain.OAuthCodeGrace), now.Add(-domain.OAuthRefreshGrace))
	require.NoError(t, err)
	// 3 gone: codeGone, refreshGone, rotatedGone (whose live successors stay).
	require.EqualValues(t, 3, n)

	probe := errors.New("the token is there and unused")
	present := func(tok domain.OAuthToken) error {
		_, err := s.UseToken(ctx, tok.Hash, now, domain.OAuthToken{}, func(domain.OAuthGrant, domain.OAuthToken) error { return probe })
		return err
	}
	for _, tok := range []domain.OAuthToken{codeGone, refreshGone, rotatedGone} {
		requireKind(t, present(tok), domain.ErrNotFound, "expired beyond its grace, the row is gone")
	}
	for _, tok := range []domain.OAuthToken{codeKept, live, otherOrg} {
		require.ErrorIs(t, present(tok), probe, "a live or recently expired token, or another org's, stays")
	}
	requireKind(t, present(rotatedKept), domain.ErrConflict,
		"a rotated refresh token expired within the grace is still detected as reused, and its family revoked")

	n, err = s.PurgeExpiredOAuthTokens(ctx, "org-sweep-a", now.Add(-domain.OAuthCodeGrace), now.Add(-domain.OAuthRefreshGrace))
	require.NoError(t, err)
	require.Zero(t, n, "nothing is purged twice")
	n, err = s.PurgeExpiredOAuthTokens(ctx, "org-sweep-b", now.Add(-domain.OAuthCodeGrace), now.Add(-domain.OAuthRefreshGrace))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	requireKind(t, present(otherOrg), domain.ErrNotFound)
}
