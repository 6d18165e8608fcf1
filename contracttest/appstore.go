package contracttest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RunAppStore runs the AppStore contract (ports/appstore.go) against stores
// made by newStore, one isolated store per parallel subtest. Invalid app ids
// or tenants wrap domain.ErrInvalid, as in MemoryStore.
func RunAppStore(t *testing.T, newStore func(t *testing.T) ports.AppStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s ports.AppStore)
	}{
		{"EnsureApp/CreatesActive", testEnsureAppCreates},
		{"EnsureApp/ConcurrentCallsMakeOneRow", testEnsureAppConcurrent},
		{"EnsureApp/KeepsExisting", testEnsureAppKeeps},
		{"EnsureApp/Invalid", testEnsureAppInvalid},
		{"GetApp/NotFound", func(t *testing.T, s ports.AppStore) {
			_, err := s.GetApp(ctxFor(t), newTenant(t), "never-made")
			requireKind(t, err, domain.ErrNotFound)
		}},
		{"ListApps/OrderedByID", testListApps},
		{"UpdateApp/ChangesFields", testUpdateApp},
		{"UpdateApp/FnErrorWritesNothing", testUpdateAppFnError},
		{"UpdateApp/IdentityKept", testUpdateAppIdentity},
		{"UpdateApp/NotFound", func(t *testing.T, s ports.AppStore) {
			_, err := s.UpdateApp(ctxFor(t), newTenant(t), "never-made", func(*domain.App) error { return nil })
			requireKind(t, err, domain.ErrNotFound)
		}},
		{"UpdateApp/ConcurrentUpdatesSerialise", testUpdateAppConcurrent},
		{"Tenancy/OtherTenantIsNotFound", testAppTenancy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

func testEnsureAppCreates(t *testing.T, s ports.AppStore) {
	tn := newTenant(t)
	before := time.Now().Add(-time.Second)
	a, err := s.EnsureApp(ctxFor(t), tn, "claude-desktop")
	require.NoError(t, err)
	require.Equal(t, domain.AppID("claude-desktop"), a.ID)
	require.Equal(t, tn.OrgID, a.OrgID)
	require.Equal(t, tn.UserID, a.UserID)
	require.True(t, a.Active)
	require.True(t, a.CreatedAt.After(before), "CreatedAt %s", a.CreatedAt)
	got, err := s.GetApp(ctxFor(t), tn, a.ID)
	require.NoError(t, err)
	requireSameApp(t, a, got)
}

func testEnsureAppConcurrent(t *testing.T, s ports.AppStore) {
	tn := newTenant(t)
	const n = 20
	apps := make([]domain.App, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			apps[i], errs[i] = s.EnsureApp(ctxFor(t), tn, "cursor")
		}()
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		requireSameApp(t, apps[0], apps[i])
	}
	list, err := s.ListApps(ctxFor(t), tn)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func testEnsureAppKeeps(t *testing.T, s ports.AppStore) {
	tn := newTenant(t)
	_, err := s.EnsureApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err)
	paused, err := s.UpdateApp(ctxFor(t), tn, "cursor", func(a *domain.App) error {
		a.Active = false
		a.Description = "paused by the user"
		return nil
	})
	require.NoError(t, err)
	again, err := s.EnsureApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err)
	requireSameApp(t, paused, again)
	require.False(t, again.Active)
}

func testEnsureAppInvalid(t *testing.T, s ports.AppStore) {
	tn := newTenant(t)
	_, err := s.EnsureApp(ctxFor(t), tn, "Not A Slug")
	requireKind(t, err, domain.ErrInvalid)
	var ve *domain.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, "app", ve.Field)
	_, err = s.EnsureApp(ctxFor(t), domain.Tenant{OrgID: "bad org!", UserID: "u"}, "cursor")
	requireKind(t, err, domain.ErrInvalid)
	list, err := s.ListApps(ctxFor(t), tn)
	require.NoError(t, err)
	require.Empty(t, list)
}

func testListApps(t *testing.T, s ports.AppStore) {
	tn := newTenant(t)
	for _, id := range []domain.AppID{"zeta", "alpha", "mid.app", "alpha"} {
		_, err := s.EnsureApp(ctxFor(t), tn, id)
		require.NoError(t, err)
	}
	_, err := s.EnsureApp(ctxFor(t), newTenant(t), "beta")
	require.NoError(t, err)
	list, err := s.ListApps(ctxFor(t), tn)
	require.NoError(t, err)
	var ids []domain.AppID
	for _, a := range list {
		ids = append(ids, a.ID)
		require.Equal(t, tn, domain.Tenant{OrgID: a.OrgID, UserID: a.UserID})
	}
	require.Equal(t, []domain.AppID{"alpha", "mid.app", "zeta"}, ids)
	empty, err := s.ListApps(ctxFor(t), newTenant(t))
	require.NoError(t, err)
	require.Empty(t, empty)
}

func testUpdateApp(t *testing.T, s ports.AppStore) {
	tn := newTenant(t)
	a, err := s.EnsureApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	got, err := s.UpdateApp(ctxFor(t), tn, "cursor", func(x *domain.App) error {
		require.True(t, x.Active, "fn must see the stored app")
		x.Active = false
		x.Description = "VS Code fork — ünïcode"
		return nil
	})
	require.NoError(t, err)
	require.False(t, got.Active)
	require.Equal(t, "VS Code fork — ünïcode", got.Description)
	requireSameTime(t, a.CreatedAt, got.CreatedAt, "CreatedAt")
	require.True(t, got.UpdatedAt.After(a.UpdatedAt), "UpdatedAt must move forward")
	stored, err := s.GetApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err)
	requireSameApp(t, got, stored)
}

func testUpdateAppFnError(t *testing.T, s ports.AppStore) {
	tn := newTenant(t)
	a, err := s.EnsureApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err)
	sentinel := errors.New("no thanks")
	_, err = s.UpdateApp(ctxFor(t), tn, "cursor", func(x *domain.App) error {
		x.Active = false
		return sentinel
	})
	require.Equal(t, sentinel, err, "fn's error must be returned as is")
	got, err := s.GetApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err)
	requireSameApp(t, a, got)
}

func testUpdateAppIdentity(t *testing.T, s ports.AppStore) {
	tn, other := newTenant(t), newTenant(t)
	a, err := s.EnsureApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err)
	ret, err := s.UpdateApp(ctxFor(t), tn, "cursor", func(x *domain.App) error {
		x.ID, x.OrgID, x.UserID = "renamed", other.OrgID, other.UserID
		x.CreatedAt = time.Unix(0, 0)
		x.Description = "still mine"
		return nil
	})
	// Refusing (ErrInvalid) or ignoring the identity fields are both
	// acceptable; moving the app is not.
	if err != nil {
		requireKind(t, err, domain.ErrInvalid)
	}
	got, err2 := s.GetApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err2)
	require.Equal(t, tn, domain.Tenant{OrgID: got.OrgID, UserID: got.UserID})
	requireSameTime(t, a.CreatedAt, got.CreatedAt, "CreatedAt")
	if err == nil {
		requireSameApp(t, got, ret)
	}
	_, err = s.GetApp(ctxFor(t), tn, "renamed")
	requireKind(t, err, domain.ErrNotFound)
	list, err := s.ListApps(ctxFor(t), other)
	require.NoError(t, err)
	require.Empty(t, list)
}

// testUpdateAppConcurrent appends a marker per goroutine to the description
// through UpdateApp's read-modify-write; a lost update drops a marker.
func testUpdateAppConcurrent(t *testing.T, s ports.AppStore) {
	tn := newTenant(t)
	_, err := s.EnsureApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.UpdateApp(ctxFor(t), tn, "cursor", func(x *domain.App) error {
				x.Description += fmt.Sprintf("[%d]", i)
				return nil
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, err := s.GetApp(ctxFor(t), tn, "cursor")
	require.NoError(t, err)
	for i := range n {
		require.Contains(t, got.Description, fmt.Sprintf("[%d]", i))
	}
	require.Equal(t, n, strings.Count(got.Description, "["))
}

func testAppTenancy(t *testing.T, s ports.AppStore) {
	victim := newTenant(t)
	for _, attacker := range []domain.Tenant{
		{OrgID: domain.OrgID("other-" + randHex(t)), UserID: victim.UserID},
		{OrgID: victim.OrgID, UserID: domain.UserID("other-" + randHex(t))},
	} {
		_, err := s.EnsureApp(ctxFor(t), victim, "cursor")
		require.NoError(t, err)
		v, err := s.UpdateApp(ctxFor(t), victim, "cursor", func(a *domain.App) error { a.Active = false; return nil })
		require.NoError(t, err)

		_, err = s.GetApp(ctxFor(t), attacker, "cursor")
		requireKind(t, err, domain.ErrNotFound)
		_, err = s.UpdateApp(ctxFor(t), attacker, "cursor", func(a *domain.App) error { a.Active = true; return nil })
		requireKind(t, err, domain.ErrNotFound)
		list, err := s.ListApps(ctxFor(t), attacker)
		require.NoError(t, err)
		require.Empty(t, list)

		// The same app id is a separate, active row for the attacker.
		own, err := s.EnsureApp(ctxFor(t), attacker, "cursor")
		require.NoError(t, err)
		require.True(t, own.Active)
		got, err := s.GetApp(ctxFor(t), victim, "cursor")
		require.NoError(t, err)
		requireSameApp(t, v, got)
	}
}

func requireSameApp(t *testing.T, want, got domain.App) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.OrgID, got.OrgID)
	require.Equal(t, want.UserID, got.UserID)
	require.Equal(t, want.Description, got.Description)
	require.Equal(t, want.Active, got.Active)
	requireSameTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
	requireSameTime(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt")
}
