package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// jwtSeen stands in for the JWT verifier behind the key verifier: it only
// records that a credential was handed on.
type jwtSeen struct {
	mu    sync.Mutex
	calls []ports.Credentials
}

func (j *jwtSeen) Verify(_ context.Context, c ports.Credentials) (domain.Principal, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.calls = append(j.calls, c)
	return domain.Principal{OrgID: "jwt-org", UserID: "jwt-user"}, nil
}

type keyClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *keyClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *keyClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func keyStore(t *testing.T) *sqlitestore.Store {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

var admin = domain.Principal{OrgID: "acme", UserID: "alice", Scopes: []domain.Scope{
	domain.ScopeKeysWrite, domain.ScopeKeysProject, domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite,
}}

func requireAuthErr(t *testing.T, err error, desc string) {
	t.Helper()
	var ae *domain.AuthError
	require.ErrorAs(t, err, &ae)
	require.ErrorIs(t, err, domain.ErrUnauthenticated)
	require.Contains(t, ae.Description, desc)
}

func TestKeyVerifySchemesAndHandOff(t *testing.T) {
	ctx := context.Background()
	svc := app.NewKeyService(app.KeyDeps{Keys: keyStore(t)})
	next := &jwtSeen{}
	v := svc.Verifier(next)
	rec, key, err := svc.CreateKey(ctx, admin, app.KeyRequest{Name: "laptop", Scopes: []domain.Scope{domain.ScopeMemoriesRead}, AppID: "cursor"})
	require.NoError(t, err)
	require.Equal(t, key[:domain.KeyDisplayLen], rec.Display)
	for _, scheme := range []string{"Token", "token", "Bearer"} {
		p, err := v.Verify(ctx, ports.Credentials{Scheme: scheme, Token: key})
		require.NoError(t, err, scheme)
		require.Equal(t, domain.Principal{OrgID: "acme", UserID: "alice", Scopes: []domain.Scope{domain.ScopeMemoriesRead},
			ClientID: "cursor", TokenID: "key:" + rec.ID, KeyID: rec.ID, BoundApp: "cursor"}, p)
	}
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "DPoP", Token: key})
	requireAuthErr(t, err, "Bearer or Token")
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Token", Token: "eyJhbGciOi.x.y"})
	requireAuthErr(t, err, "carries an API key")
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Token", Token: key[:len(key)-1]})
	requireAuthErr(t, err, "malformed")
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Bearer", Token: key[:len(key)-1] + "A"})
	if key[len(key)-1] == 'A' {
		_, err = v.Verify(ctx, ports.Credentials{Scheme: "Bearer", Token: key[:len(key)-1] + "B"})
	}
	requireAuthErr(t, err, "unknown API key")
	require.Empty(t, next.calls, "a key is never handed to the JWT verifier")
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Bearer", Token: "eyJhbGciOi.x.y"})
	require.NoError(t, err)
	require.Len(t, next.calls, 1, "everything else is")
}

func TestKeyRevokedAtOnceAndExpired(t *testing.T) {
	ctx := context.Background()
	clock := &keyClock{t: time.Now()}
	st := keyStore(t)
	svc := app.NewKeyService(app.KeyDeps{Keys: st, Clock: clock, CacheTTL: time.Hour})
	v := svc.Verifier(&jwtSeen{})
	rec, key, err := svc.CreateKey(ctx, admin, app.KeyRequest{ExpiresAt: clock.Now().Add(2 * time.Hour)})
	require.NoError(t, err)
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Token", Token: key})
	require.NoError(t, err, "now cached for an hour")
	stored, err := st.GetKey(ctx, "acme", rec.ID)
	require.NoError(t, err)
	require.WithinDuration(t, clock.Now(), stored.LastUsedAt, time.Millisecond, "last use recorded")

	_, err = svc.RevokeKey(ctx, admin, rec.ID)
	require.NoError(t, err)
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Token", Token: key})
	requireAuthErr(t, err, "revoked")

	_, key2, err := svc.CreateKey(ctx, admin, app.KeyRequest{ExpiresAt: clock.Now().Add(2 * time.Hour)})
	require.NoError(t, err)
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Token", Token: key2})
	require.NoError(t, err)
	clock.add(2 * time.Hour)
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Token", Token: key2})
	requireAuthErr(t, err, "expired")
}

// TestKeyRevocationReachesOtherInstance runs two services over one store,
// each with its own cache, joined by Valkey: a key revoked on A is refused
// by B at once although B cached it for an hour.
func TestKeyRevocationReachesOtherInstance(t *testing.T) {
	addr := contracttest.BackendAddr(t, contracttest.Valkey)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := keyStore(t)
	prefix := "keytest-" + domain.NewID(time.Now())
	feed := func() *valkeystore.Store {
		vs, err := valkeystore.Open(ctx, valkeystore.Config{URL: "redis://" + addr, Options: valkeystore.Options{Prefix: prefix}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = vs.Close() })
		return vs
	}
	a := app.NewKeyService(app.KeyDeps{Keys: st, Revocations: feed(), CacheTTL: time.Hour})
	b := app.NewKeyService(app.KeyDeps{Keys: st, Revocations: feed(), CacheTTL: time.Hour})
	require.NoError(t, a.Watch(ctx))
	require.NoError(t, b.Watch(ctx))
	rec, key, err := a.CreateKey(ctx, admin, app.KeyRequest{})
	require.NoError(t, err)
	vb := b.Verifier(&jwtSeen{})
	_, err = vb.Verify(ctx, ports.Credentials{Scheme: "Token", Token: key})
	require.NoError(t, err)
	_, err = a.RevokeKey(ctx, admin, rec.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := vb.Verify(ctx, ports.Credentials{Scheme: "Token", Token: key})
		return errors.Is(err, domain.ErrUnauthenticated)
	}, 5*time.Second, 5*time.Millisecond, "B must drop the key when A revokes it, not after its hour")
}

func TestKeyIssuingRules(t *testing.T) {
	ctx := context.Background()
	svc := app.NewKeyService(app.KeyDeps{Keys: keyStore(t)})
	user := domain.Principal{OrgID: "acme", UserID: "bob", Scopes: []domain.Scope{domain.ScopeKeysWrite, domain.ScopeMemoriesRead}}

	_, _, err := svc.CreateKey(ctx, user, app.KeyRequest{Scopes: []domain.Scope{domain.ScopeMemoriesWrite}})
	require.ErrorIs(t, err, domain.ErrForbidden, "no scope beyond the issuer's")
	_, _, err = svc.CreateKey(ctx, user, app.KeyRequest{Kind: domain.KeyProject})
	require.ErrorIs(t, err, domain.ErrForbidden, "project keys need keys:project")
	_, _, err = svc.CreateKey(ctx, user, app.KeyRequest{UserID: "carol"})
	require.ErrorIs(t, err, domain.ErrForbidden, "a key for another user needs keys:project")
	_, _, err = svc.CreateKey(ctx, domain.Principal{OrgID: "acme", UserID: "bob", Scopes: []domain.Scope{domain.ScopeMemoriesRead}}, app.KeyRequest{})
	require.ErrorIs(t, err, domain.ErrForbidden, "keys:write is needed at all")

	bobs, _, err := svc.CreateKey(ctx, user, app.KeyRequest{})
	require.NoError(t, err)
	alices, _, err := svc.CreateKey(ctx, admin, app.KeyRequest{})
	require.NoError(t, err)
	listed, err := svc.ListKeys(ctx, user)
	require.NoError(t, err)
	require.Len(t, listed, 1, "bob sees his own keys only")
	_, err = svc.RevokeKey(ctx, user, alices.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "nor revokes anyone else's")
	_, err = svc.RevokeKey(ctx, admin, bobs.ID)
	require.NoError(t, err, "keys:project manages every key of the org")
	_, err = svc.RevokeKey(ctx, domain.Principal{OrgID: "other", UserID: "alice", Scopes: admin.Scopes}, alices.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "never across orgs")

	proj, pkey, err := svc.CreateKey(ctx, admin, app.KeyRequest{Kind: domain.KeyProject, Scopes: []domain.Scope{domain.ScopeMemoriesRead}})
	require.NoError(t, err)
	p, err := svc.Verifier(&jwtSeen{}).Verify(ctx, ports.Credentials{Scheme: "Token", Token: pkey})
	require.NoError(t, err)
	require.True(t, p.ProjectKey)
	require.Empty(t, p.UserID)
	require.Equal(t, "key:"+proj.ID, p.TokenID)
	_, _, err = svc.CreateKey(ctx, p, app.KeyRequest{})
	require.ErrorIs(t, err, domain.ErrForbidden, "a project key cannot issue keys")
}
