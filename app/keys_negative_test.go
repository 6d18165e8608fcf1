package app_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// countingKeys counts the store lookups the verifier makes.
type countingKeys struct {
	ports.KeyStore
	lookups atomic.Int64
}

func (c *countingKeys) LookupKey(ctx context.Context, hash string) (domain.APIKey, error) {
	c.lookups.Add(1)
	return c.KeyStore.LookupKey(ctx, hash)
}

// A well-formed key the store does not know costs one lookup, not one per
// request (issue 12: a client repeating a junk key was a query per
// request); the answer stays "unknown API key"; after the TTL the store is
// asked again; a real key beside it is unaffected.
func TestUnknownKeysAreCachedNegatively(t *testing.T) {
	ctx := context.Background()
	store := &countingKeys{KeyStore: keyStore(t)}
	clock := &keyClock{t: time.Now()}
	svc := app.NewKeyService(app.KeyDeps{Keys: store, Clock: clock})
	v := svc.Verifier(&jwtSeen{})

	_, key, err := svc.CreateKey(ctx, admin, app.KeyRequest{Name: "laptop", Scopes: []domain.Scope{domain.ScopeMemoriesRead}})
	require.NoError(t, err)
	junk := key[:len(key)-1] + "A"
	if junk == key {
		junk = key[:len(key)-1] + "B"
	}
	for range 50 {
		_, err := v.Verify(ctx, ports.Credentials{Scheme: "Bearer", Token: junk})
		requireAuthErr(t, err, "unknown API key")
	}
	require.EqualValues(t, 1, store.lookups.Load(), "50 tries of one unknown key: one lookup")

	clock.add(2 * time.Minute)
	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Bearer", Token: junk})
	requireAuthErr(t, err, "unknown API key")
	require.EqualValues(t, 2, store.lookups.Load(), "past the TTL the store is asked again")

	_, err = v.Verify(ctx, ports.Credentials{Scheme: "Bearer", Token: key})
	require.NoError(t, err, "the real key still verifies")
}
