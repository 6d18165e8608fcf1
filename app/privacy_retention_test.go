package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// hasTextEntry reports whether the text index answers text with id.
func (e *privacyEnv) hasTextEntry(t *testing.T, tn domain.Tenant, id domain.MemoryID, text string) bool {
	t.Helper()
	hits, err := e.store.TextIndex().Search(context.Background(), tn, text, 100, domain.SearchFilter{})
	require.NoError(t, err)
	for _, h := range hits {
		if h.ID == id {
			return true
		}
	}
	return false
}

func TestExpiredMemoryIsHiddenAtOnceAndSweptFromEveryStore(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	admin := domain.Principal{OrgID: sAlice.OrgID, UserID: "admin", Scopes: []domain.Scope{domain.ScopePrivacyAdmin}}
	_, err := e.privacy.SetRetention(ctx, admin, domain.Retention{QueryLog: time.Second})
	require.NoError(t, err)
	mem := app.NewMemoryService(app.MemoryDeps{Memories: e.store, Apps: e.store, Access: e.store, Observers: []app.ChangeObserver{e.indexer}, TTLs: e.privacy})
	defer mem.Close()

	ttl := time.Second
	short, _, err := mem.Add(ctx, sAlice, app.AddInput{Text: "the canary flies south for a second", TTL: &ttl})
	require.NoError(t, err)
	require.False(t, short.ExpiresAt.IsZero())
	kept := e.add(t, sAlice, "the canary stays home for good")
	_, err = mem.Get(ctx, sAlice, short.ID, "")
	require.NoError(t, err)
	require.NoError(t, e.feedback.LogQuery(ctx, sAlice, domain.QueryLog{ID: domain.NewQueryID(time.Now()), Query: "canary", Params: domain.SearchParams{}}))
	require.True(t, e.hasTextEntry(t, sAlice.Tenant(), short.ID, "canary south"))
	vecs := e.vectors.Len(sAlice.Tenant())

	time.Sleep(ttl + 50*time.Millisecond)
	// Expired, not yet swept: no read returns it, though the indexes still
	// hold it.
	_, err = mem.Get(ctx, sAlice, short.ID, "")
	require.ErrorIs(t, err, domain.ErrNotFound)
	page, err := mem.List(ctx, sAlice, domain.ListQuery{Limit: 10}, "")
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	res := e.find(t, sAlice, app.SearchRequest{Query: "canary flies south", Limit: 10})
	require.Equal(t, []domain.MemoryID{kept.ID}, resultIDs(res), "search never returns an expired memory")
	require.True(t, e.hasTextEntry(t, sAlice.Tenant(), short.ID, "canary south"), "the sweeper has not run yet")

	swept, err := e.privacy.Sweep(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, swept[domain.StoreMemories])
	require.EqualValues(t, 1, swept[domain.StoreHistory])
	require.EqualValues(t, 1, swept[domain.StoreAccessLog])
	require.EqualValues(t, 1, swept[domain.StoreTextIndex])
	require.EqualValues(t, 1, swept[domain.StoreVectorIndex])
	require.EqualValues(t, 1, swept[domain.StoreQueryLog], "the query log is past the org's one-second retention")
	require.False(t, e.hasTextEntry(t, sAlice.Tenant(), short.ID, "canary south"))
	require.Equal(t, vecs-1, e.vectors.Len(sAlice.Tenant()))
	refs, err := e.store.SubjectMemories(ctx, domain.Subject{OrgID: sAlice.OrgID, UserID: sAlice.UserID}, 10)
	require.NoError(t, err)
	require.Len(t, refs, 1, "the row is gone, not hidden")

	st := e.privacy.SweepStats()
	require.EqualValues(t, 1, st.Swept[domain.StoreMemories])
	require.False(t, st.LastSweep.IsZero())
	again, err := e.privacy.Sweep(ctx)
	require.NoError(t, err)
	require.Empty(t, again, "nothing is swept twice")

	// The sweep is in the audit trail, once (the empty sweep adds
	// nothing), with counts and no personal data.
	events, _, err := e.privacy.AuditTrail(ctx, admin, 100, "")
	require.NoError(t, err)
	var sweeps []domain.AuditEvent
	for _, ev := range events {
		if ev.Action == domain.AuditRetentionSwept {
			sweeps = append(sweeps, ev)
		}
	}
	require.Len(t, sweeps, 1)
	ev := sweeps[0]
	require.Equal(t, sAlice.OrgID, ev.OrgID)
	require.Equal(t, swept, ev.Counts)
	require.Equal(t, "done", ev.Outcome)
	require.Equal(t, e.privacy.Hash("operator", "retention-sweeper"), ev.ActorHash)
	require.Empty(t, ev.SubjectHash, "a sweep has no one subject")
	require.NotContains(t, fmt.Sprintf("%+v", ev), string(sAlice.UserID))
	require.NotContains(t, fmt.Sprintf("%+v", ev), "canary")
}

func TestAppDefaultTTLAndExplicitExpiry(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	admin := domain.Principal{OrgID: sAlice.OrgID, UserID: "admin", Scopes: []domain.Scope{domain.ScopePrivacyAdmin}}
	_, err := e.privacy.SetRetention(ctx, sAlice, domain.Retention{})
	require.ErrorIs(t, err, domain.ErrForbidden, "only an administrator sets the policy")
	_, err = e.privacy.SetRetention(ctx, admin, domain.Retention{AppTTL: map[domain.AppID]time.Duration{"cursor": time.Hour}})
	require.NoError(t, err)
	mem := app.NewMemoryService(app.MemoryDeps{Memories: e.store, Apps: e.store, Access: e.store, TTLs: e.privacy})
	defer mem.Close()

	before := time.Now()
	m, _, err := mem.Add(ctx, sAlice, app.AddInput{Text: "written through cursor"})
	require.NoError(t, err)
	require.WithinDuration(t, before.Add(time.Hour), m.ExpiresAt, 5*time.Second, "the app's default TTL")
	never := time.Duration(0)
	m, _, err = mem.Add(ctx, sAlice, app.AddInput{Text: "kept by request", TTL: &never})
	require.NoError(t, err)
	require.True(t, m.ExpiresAt.IsZero(), "ttl 0 overrides the default")
	m, _, err = mem.Add(ctx, sAlice, app.AddInput{Text: "other app", App: "claude"})
	require.NoError(t, err)
	require.True(t, m.ExpiresAt.IsZero(), "another app has no default")

	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	m, err = mem.Update(ctx, sAlice, m.ID, app.UpdateInput{ExpiresAt: &at}, "")
	require.NoError(t, err)
	require.True(t, at.Equal(m.ExpiresAt))
	past := time.Now().Add(-time.Minute)
	_, err = mem.Update(ctx, sAlice, m.ID, app.UpdateInput{ExpiresAt: &past}, "")
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "expires_at", ve.Field)
	hour := time.Hour
	_, _, err = mem.Add(ctx, sAlice, app.AddInput{Text: "both", ExpiresAt: &at, TTL: &hour})
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "ttl", ve.Field)
}

// A dashboard user who never signs in again would keep their expired
// session, sealed tokens and all, if only a sign-in deleted it: the sweep
// deletes it, in an org with nothing else to sweep, and counts and audits
// it like the rest.
func TestSweepDeletesExpiredDashboardSessions(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	session := func(user domain.UserID, created, expires time.Time) domain.UISession {
		hash := sha256.Sum256([]byte(string(user) + created.String()))
		u := domain.UISession{IDHash: hex.EncodeToString(hash[:]), OrgID: "org-dashboard-only", UserID: user,
			Access: "access-token", Refresh: "refresh-token", AccessExpiresAt: created.Add(5 * time.Minute), CreatedAt: created, ExpiresAt: expires}
		require.NoError(t, e.store.PutUISession(ctx, u, 20))
		return u
	}
	gone := session("left-for-good", now.Add(-13*time.Hour), now.Add(-time.Hour))
	live := session("still-here", now, now.Add(12*time.Hour))

	swept, err := e.privacy.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{domain.StoreUISessions: 1}, swept)
	_, err = e.store.GetUISession(ctx, gone.IDHash, gone.CreatedAt)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = e.store.GetUISession(ctx, live.IDHash, now)
	require.NoError(t, err)
	require.EqualValues(t, 1, e.privacy.SweepStats().Swept[domain.StoreUISessions])

	admin := domain.Principal{OrgID: "org-dashboard-only", UserID: "admin", Scopes: []domain.Scope{domain.ScopePrivacyAdmin}}
	events, _, err := e.privacy.AuditTrail(ctx, admin, 100, "")
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, domain.AuditRetentionSwept, events[0].Action)
	require.Equal(t, swept, events[0].Counts)
	require.NotContains(t, fmt.Sprintf("%+v", events[0]), "left-for-good")
}

// Refresh rotation adds a token row at every refresh and nothing but an
// erasure deleted them: the sweep deletes codes and refresh tokens expired
// over their grace, in an org with nothing else to sweep, keeps the
// recently expired ones, and counts and audits them like the rest.
func TestSweepDeletesLongExpiredOAuthTokens(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	token := func(kind domain.OAuthTokenKind, expires time.Time) domain.OAuthToken {
		hash := sha256.Sum256([]byte(string(kind) + expires.String()))
		g := domain.OAuthGrant{ID: domain.NewID(now), OrgID: "org-oauth-only", UserID: "connected", ClientID: "client-1",
			Scopes: []domain.Scope{domain.ScopeMemoriesRead}, RedirectURI: "http://127.0.0.1:3334/callback",
			CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CreatedAt: now}
		tok := domain.OAuthToken{Hash: hex.EncodeToString(hash[:]), Kind: kind, CreatedAt: expires.Add(-time.Minute), ExpiresAt: expires}
		require.NoError(t, e.store.CreateGrant(ctx, g, tok))
		return tok
	}
	token(domain.OAuthCode, now.Add(-2*time.Hour))
	token(domain.OAuthRefresh, now.Add(-25*time.Hour))
	kept := []domain.OAuthToken{token(domain.OAuthCode, now.Add(-30*time.Minute)), token(domain.OAuthRefresh, now.Add(-23*time.Hour))}

	swept, err := e.privacy.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{domain.StoreOAuthTokens: 2}, swept)
	require.EqualValues(t, 2, e.privacy.SweepStats().Swept[domain.StoreOAuthTokens])
	for _, tok := range kept {
		_, err := e.store.UseToken(ctx, tok.Hash, now, domain.OAuthToken{}, func(domain.OAuthGrant, domain.OAuthToken) error { return nil })
		require.NoError(t, err, "expired within its grace, the token stays")
	}

	admin := domain.Principal{OrgID: "org-oauth-only", UserID: "admin", Scopes: []domain.Scope{domain.ScopePrivacyAdmin}}
	events, _, err := e.privacy.AuditTrail(ctx, admin, 100, "")
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, domain.AuditRetentionSwept, events[0].Action)
	require.Equal(t, swept, events[0].Counts)
}
