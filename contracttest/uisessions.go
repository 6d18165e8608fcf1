package contracttest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// UISessionBackend is a UISessionStore that the retention sweeper also
// reaches (RetentionStore.PurgeExpiredUISessions deletes its expired
// sessions).
type UISessionBackend interface {
	ports.UISessionStore
	ports.RetentionStore
}

// RunUISessionStore runs the UISessionStore contract (ports/uisessions.go)
// and the sweeper's part of it against stores made by newStore, one
// isolated store per parallel subtest. Times round-trip to the
// microsecond.
func RunUISessionStore(t *testing.T, newStore func(t *testing.T) UISessionBackend) {
	cases := []struct {
		name string
		run  func(t *testing.T, s UISessionBackend)
	}{
		{"RoundTrip", testUISessionRoundTrip},
		{"ExpiredAndUnknownAreNotFound", testUISessionExpiry},
		{"DuplicateIsAlreadyExists", func(t *testing.T, s UISessionBackend) {
			u := newUISession("org-a", "u1", time.Now())
			require.NoError(t, s.PutUISession(ctxFor(t), u, 10))
			requireKind(t, s.PutUISession(ctxFor(t), u, 10), domain.ErrAlreadyExists)
		}},
		{"InvalidIsRefused", func(t *testing.T, s UISessionBackend) {
			u := newUISession("org-a", "u1", time.Now())
			u.IDHash = "short"
			requireKind(t, s.PutUISession(ctxFor(t), u, 10), domain.ErrInvalid)
			u = newUISession("org-a", "u1", time.Now())
			u.Access = ""
			requireKind(t, s.PutUISession(ctxFor(t), u, 10), domain.ErrInvalid)
		}},
		{"BoundedPerUser", testUISessionBound},
		{"RefreshLeaseAndSave", testUISessionRefresh},
		{"ConcurrentClaimsOneWins", testUISessionConcurrentClaims},
		{"TenantScoped", testUISessionTenancy},
		{"ExpiredAreSweptForUsersWhoNeverReturn", testUISessionSweep},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

func newUISession(org domain.OrgID, user domain.UserID, now time.Time) domain.UISession {
	now = now.UTC().Truncate(time.Microsecond)
	return domain.UISession{IDHash: randomHash(), OrgID: org, UserID: user, Access: "access-" + randomHash(),
		Refresh: "refresh-" + randomHash(), AccessExpiresAt: now.Add(5 * time.Minute), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func testUISessionRoundTrip(t *testing.T, s UISessionBackend) {
	ctx := ctxFor(t)
	u := newUISession("org-a", "u1", time.Now())
	require.NoError(t, s.PutUISession(ctx, u, 10))
	got, err := s.GetUISession(ctx, u.IDHash, u.CreatedAt)
	require.NoError(t, err)
	require.Equal(t, u, got)

	// An issuer that grants no refresh token: the empty one round-trips.
	u = newUISession("org-a", "u1", time.Now())
	u.Refresh = ""
	require.NoError(t, s.PutUISession(ctx, u, 10))
	got, err = s.GetUISession(ctx, u.IDHash, u.CreatedAt)
	require.NoError(t, err)
	require.Empty(t, got.Refresh)
}

func testUISessionExpiry(t *testing.T, s UISessionBackend) {
	ctx := ctxFor(t)
	u := newUISession("org-a", "u1", time.Now())
	require.NoError(t, s.PutUISession(ctx, u, 10))
	_, err := s.GetUISession(ctx, u.IDHash, u.ExpiresAt)
	requireKind(t, err, domain.ErrNotFound, "a session is gone when it expires")
	_, err = s.GetUISession(ctx, randomHash(), u.CreatedAt)
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.GetUISession(ctx, "not-a-hash", u.CreatedAt)
	requireKind(t, err, domain.ErrNotFound)
}

func testUISessionBound(t *testing.T, s UISessionBackend) {
	ctx := ctxFor(t)
	now := time.Now()
	var us []domain.UISession
	for i := range 3 {
		u := newUISession("org-a", "u1", now.Add(time.Duration(i)*time.Second))
		require.NoError(t, s.PutUISession(ctx, u, 2))
		us = append(us, u)
	}
	other := newUISession("org-a", "u2", now)
	require.NoError(t, s.PutUISession(ctx, other, 2))
	_, err := s.GetUISession(ctx, us[0].IDHash, us[2].CreatedAt)
	requireKind(t, err, domain.ErrNotFound, "the user's oldest session makes room")
	for _, u := range []domain.UISession{us[1], us[2], other} {
		_, err := s.GetUISession(ctx, u.IDHash, us[2].CreatedAt)
		require.NoError(t, err, "newer sessions and another user's stay")
	}
}

func testUISessionRefresh(t *testing.T, s UISessionBackend) {
	ctx := ctxFor(t)
	u := newUISession("org-a", "u1", time.Now())
	require.NoError(t, s.PutUISession(ctx, u, 10))
	now := u.CreatedAt
	ok, err := s.ClaimUISessionRefresh(ctx, u.Tenant(), u.IDHash, now, now.Add(10*time.Second))
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.ClaimUISessionRefresh(ctx, u.Tenant(), u.IDHash, now.Add(time.Second), now.Add(11*time.Second))
	require.NoError(t, err)
	require.False(t, ok, "the lease is held")
	ok, err = s.ClaimUISessionRefresh(ctx, u.Tenant(), u.IDHash, now.Add(10*time.Second), now.Add(20*time.Second))
	require.NoError(t, err)
	require.True(t, ok, "a lapsed lease (its holder died) is taken over")

	exp := now.Add(15 * time.Minute)
	require.NoError(t, s.SaveUISessionTokens(ctx, u.Tenant(), u.IDHash, "access-2", "refresh-2", exp))
	got, err := s.GetUISession(ctx, u.IDHash, now)
	require.NoError(t, err)
	require.Equal(t, "access-2", got.Access)
	require.Equal(t, "refresh-2", got.Refresh)
	require.Equal(t, exp, got.AccessExpiresAt)
	ok, err = s.ClaimUISessionRefresh(ctx, u.Tenant(), u.IDHash, now.Add(11*time.Second), now.Add(21*time.Second))
	require.NoError(t, err)
	require.True(t, ok, "saving releases the lease")

	require.NoError(t, s.DeleteUISession(ctx, u.Tenant(), u.IDHash))
	_, err = s.GetUISession(ctx, u.IDHash, now)
	requireKind(t, err, domain.ErrNotFound)
	require.NoError(t, s.DeleteUISession(ctx, u.Tenant(), u.IDHash), "deleting twice is no error")
	_, err = s.ClaimUISessionRefresh(ctx, u.Tenant(), u.IDHash, now, now.Add(time.Second))
	requireKind(t, err, domain.ErrNotFound)
	requireKind(t, s.SaveUISessionTokens(ctx, u.Tenant(), u.IDHash, "a", "r", exp), domain.ErrNotFound)
}

func testUISessionConcurrentClaims(t *testing.T, s UISessionBackend) {
	ctx := ctxFor(t)
	u := newUISession("org-a", "u1", time.Now())
	require.NoError(t, s.PutUISession(ctx, u, 10))
	var (
		wg   sync.WaitGroup
		wins atomic.Int32
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ClaimUISessionRefresh(ctx, u.Tenant(), u.IDHash, u.CreatedAt, u.CreatedAt.Add(10*time.Second))
			if err == nil && ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, wins.Load(), "of concurrent claims exactly one refreshes")
}

func testUISessionTenancy(t *testing.T, s UISessionBackend) {
	ctx := ctxFor(t)
	u := newUISession("org-a", "u1", time.Now())
	require.NoError(t, s.PutUISession(ctx, u, 10))
	for _, other := range []domain.Tenant{{OrgID: "org-b", UserID: "u1"}, {OrgID: "org-a", UserID: "u2"}} {
		_, err := s.ClaimUISessionRefresh(ctx, other, u.IDHash, u.CreatedAt, u.CreatedAt.Add(time.Second))
		requireKind(t, err, domain.ErrNotFound)
		requireKind(t, s.SaveUISessionTokens(ctx, other, u.IDHash, "stolen", "stolen", u.ExpiresAt), domain.ErrNotFound)
		require.NoError(t, s.DeleteUISession(ctx, other, u.IDHash))
	}
	got, err := s.GetUISession(ctx, u.IDHash, u.CreatedAt)
	require.NoError(t, err, "another tenant changed and deleted nothing")
	require.Equal(t, u.Access, got.Access)
}

// testUISessionSweep: a user who never signs in again keeps no expired
// session (PutUISession would only have deleted it at their next sign-in);
// the sweep of one org leaves its unexpired sessions and every other org's
// alone, and an org whose users only ever signed in to the dashboard is
// one the sweeper visits.
func testUISessionSweep(t *testing.T, s UISessionBackend) {
	ctx := ctxFor(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	expired := func(org domain.OrgID, user domain.UserID, expiresAt time.Time) domain.UISession {
		u := newUISession(org, user, expiresAt.Add(-12*time.Hour))
		u.ExpiresAt = expiresAt
		require.NoError(t, s.PutUISession(ctx, u, 10))
		return u
	}
	gone := expired("org-sweep-a", "u1", now.Add(-time.Hour))
	atNow := expired("org-sweep-a", "u3", now)
	live := newUISession("org-sweep-a", "u2", now)
	require.NoError(t, s.PutUISession(ctx, live, 10))
	otherOrg := expired("org-sweep-b", "u1", now.Add(-time.Hour))

	orgs, err := s.SweepOrgs(ctx)
	require.NoError(t, err)
	require.Subset(t, orgs, []domain.OrgID{"org-sweep-a", "org-sweep-b"}, "orgs with only dashboard sessions are swept too")

	n, err := s.PurgeExpiredUISessions(ctx, "org-sweep-a", now)
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "expired before now, and at now")
	for _, u := range []domain.UISession{gone, atNow} {
		_, err := s.GetUISession(ctx, u.IDHash, u.CreatedAt)
		requireKind(t, err, domain.ErrNotFound, "the row is gone, not only past its expiry")
	}
	got, err := s.GetUISession(ctx, live.IDHash, now)
	require.NoError(t, err, "an unexpired session stays")
	require.Equal(t, live.Access, got.Access)
	_, err = s.GetUISession(ctx, otherOrg.IDHash, otherOrg.CreatedAt)
	require.NoError(t, err, "another org's expired session is that org's sweep's")

	n, err = s.PurgeExpiredUISessions(ctx, "org-sweep-a", now)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is purged twice")
	n, err = s.PurgeExpiredUISessions(ctx, "org-sweep-b", now)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	_, err = s.GetUISession(ctx, otherOrg.IDHash, otherOrg.CreatedAt)
	requireKind(t, err, domain.ErrNotFound)
}
