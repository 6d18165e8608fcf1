package valkeystore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// testURL turns ENGRAM_TEST_VALKEY_ADDR (host:port or a URL) into a URL.
func testURL(t testing.TB) string {
	addr := contracttest.BackendAddr(t, contracttest.Valkey)
	if strings.Contains(addr, "://") {
		return addr
	}
	return "redis://" + addr
}

// newStore opens a store on a random key prefix and deletes every key under
// it when the test ends.
func newStore(t testing.TB, o valkeystore.Options) *valkeystore.Store {
	t.Helper()
	return openTestStore(t, testURL(t), o)
}

// openTestStore is newStore on the server (or cluster) at url.
func openTestStore(t testing.TB, url string, o valkeystore.Options) *valkeystore.Store {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	o.Prefix = "enttest-" + hex.EncodeToString(b[:])
	s, err := valkeystore.Open(context.Background(), valkeystore.Config{URL: url, Options: o})
	require.NoError(t, err)
	t.Cleanup(func() {
		if _, err := s.DeletePrefixed(context.Background()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		require.NoError(t, s.Close())
	})
	return s
}

func TestReplayCacheContract(t *testing.T) {
	t.Parallel()
	contracttest.RunReplayCache(t, func(t *testing.T) ports.ReplayCache { return newStore(t, valkeystore.Options{}) })
}

func TestRateLimiterContract(t *testing.T) {
	t.Parallel()
	contracttest.RunRateLimiter(t, func(t *testing.T) ports.RateLimiter { return newStore(t, valkeystore.Options{}) })
}

func TestSessionStoreContract(t *testing.T) {
	t.Parallel()
	contracttest.RunSessionStore(t, sessionStoreFor)
}

func sessionStoreFor(t *testing.T, s contracttest.SessionSetup) ports.SessionStore {
	return newStore(t, valkeystore.Options{SessionTTL: s.TTL, MaxEvents: s.MaxEvents, HalfLife: s.HalfLife, MaxBytesPerUser: int64(s.MaxBytesPerUser), SessionKeys: s.Keys})
}

func TestSealedSessionStoreContract(t *testing.T) {
	t.Parallel()
	contracttest.RunSealedSessionStore(t, sessionStoreFor, func(t *testing.T, s ports.SessionStore) string {
		return dumpPrefix(t, s.(*valkeystore.Store))
	})
}

// dumpPrefix is every key under the store's prefix with its hash fields
// and values or sorted-set members, as a copy of Valkey's data would hold
// them.
func dumpPrefix(t *testing.T, s *valkeystore.Store) string {
	t.Helper()
	ctx, c := context.Background(), s.Client()
	keys, err := c.Do(ctx, c.B().Keys().Pattern(s.Prefix()+"*").Build()).AsStrSlice()
	require.NoError(t, err)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "\n")
		typ, err := c.Do(ctx, c.B().Type().Key(k).Build()).ToString()
		require.NoError(t, err)
		switch typ {
		case "hash":
			m, err := c.Do(ctx, c.B().Hgetall().Key(k).Build()).AsStrMap()
			require.NoError(t, err)
			for f, v := range m {
				b.WriteString(f + "=" + v + "\n")
			}
		case "zset":
			ms, err := c.Do(ctx, c.B().Zrange().Key(k).Min("0").Max("-1").Build()).AsStrSlice()
			require.NoError(t, err)
			b.WriteString(strings.Join(ms, "\n") + "\n")
		case "string":
			v, err := c.Do(ctx, c.B().Get().Key(k).Build()).ToString()
			require.NoError(t, err)
			b.WriteString(v + "\n")
		}
	}
	return b.String()
}

func TestOpenRefusesBadURLAndUnreachableServer(t *testing.T) {
	t.Parallel()
	_, err := valkeystore.Open(context.Background(), valkeystore.Config{URL: "http://localhost:6379"})
	require.ErrorIs(t, err, domain.ErrInvalid)
	start := time.Now()
	// Port 1 on loopback: nothing listens, the dial is refused at once.
	_, err = valkeystore.Open(context.Background(), valkeystore.Config{URL: "redis://127.0.0.1:1", DialTimeout: time.Second})
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.Less(t, time.Since(start), 3*time.Second)
}

func TestDeletePrefixedDeletesOnlyItsPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := newStore(t, valkeystore.Options{}), newStore(t, valkeystore.Options{})
	until := time.Now().Add(time.Hour)
	for i := range 1500 { // more than one SCAN page
		_, err := a.Remember(ctx, fmt.Sprintf("jti-%d", i), until)
		require.NoError(t, err)
	}
	_, err := b.Remember(ctx, "kept", until)
	require.NoError(t, err)
	n, err := a.DeletePrefixed(ctx)
	require.NoError(t, err)
	require.Equal(t, 1500, n)
	fresh, err := a.Remember(ctx, "jti-7", until)
	require.NoError(t, err)
	require.True(t, fresh, "the key was deleted")
	fresh, err = b.Remember(ctx, "kept", until)
	require.NoError(t, err)
	require.False(t, fresh, "another prefix is untouched")
}

func TestMaxMemoryPolicy(t *testing.T) {
	t.Parallel()
	s := newStore(t, valkeystore.Options{})
	ctx := context.Background()
	got, err := s.MaxMemoryPolicy(ctx)
	require.NoError(t, err)
	c := s.Client()
	want, err := c.Do(ctx, c.B().ConfigGet().Parameter("maxmemory-policy").Build()).AsStrMap()
	require.NoError(t, err)
	require.Equal(t, want["maxmemory-policy"], got)
}

func TestKeysArePrefixedEscapedAndExpire(t *testing.T) {
	t.Parallel()
	s := newStore(t, valkeystore.Options{SessionTTL: time.Hour})
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "o:1", UserID: "u"}
	e, err := domain.NewSessionEvent(domain.RoleUser, "hi", nil, time.Now())
	require.NoError(t, err)
	_, err = s.Append(ctx, tn, "chat", e)
	require.NoError(t, err)
	_, err = s.Remember(ctx, "jti-1", time.Now().Add(time.Minute))
	require.NoError(t, err)
	_, err = s.Allow(ctx, "bucket", ports.RateLimit{Burst: 5, Period: time.Minute}, 1)
	require.NoError(t, err)

	c := s.Client()
	keys, err := c.Do(ctx, c.B().Keys().Pattern(s.Prefix()+":*").Build()).AsStrSlice()
	require.NoError(t, err)
	p := s.Prefix()
	require.ElementsMatch(t, []string{
		// the user's keys carry the escaped scope "3:o:1/u" as their hash tag
		p + ":sess:{3%3Ao%3A1/u}:chat:ev", p + ":sess:{3%3Ao%3A1/u}:chat:ix", p + ":jti:jti-1", p + ":rl:bucket",
		// the user's byte ledger (quota.go)
		p + ":quota:{3%3Ao%3A1/u}:h", p + ":quota:{3%3Ao%3A1/u}:z",
	}, keys)
	for _, k := range keys {
		ttl, err := c.Do(ctx, c.B().Pttl().Key(k).Build()).AsInt64()
		require.NoError(t, err)
		require.Positive(t, ttl, "key %s would live forever", k)
	}
}

// TestLoweredCapTrimsLongSession appends 9,000 events (more than one Lua
// unpack can take at once), then appends through a store configured with a
// cap of 5: the one script call must trim the whole excess.
func TestLoweredCapTrimsLongSession(t *testing.T) {
	t.Parallel()
	s := newStore(t, valkeystore.Options{})
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	es := make([]domain.SessionEvent, 0, 9000)
	base := time.Now().Add(-time.Hour)
	for i := range 9000 {
		at := base.Add(time.Duration(i) * time.Millisecond)
		es = append(es, domain.SessionEvent{ID: domain.NewID(at), Role: domain.RoleUser, Text: "e", CreatedAt: at})
	}
	for i := 0; i < len(es); i += 500 {
		require.NoError(t, s.AppendBatch(ctx, tn, "long", es[i:i+500]))
	}
	small := valkeystore.New(s.Client(), valkeystore.Options{Prefix: s.Prefix(), MaxEvents: 5})
	last, err := domain.NewSessionEvent(domain.RoleUser, "newest", nil, time.Now())
	require.NoError(t, err)
	_, err = small.Append(ctx, tn, "long", last)
	require.NoError(t, err)
	got, err := small.Recent(ctx, tn, "long", 100)
	require.NoError(t, err)
	require.Len(t, got, 5)
	require.Equal(t, last.ID, got[0].ID)
	c := s.Client()
	n, err := c.Do(ctx, c.B().Hlen().Key(s.Prefix()+":sess:{1%3Ao/u}:long:ev").Build()).AsInt64()
	require.NoError(t, err)
	require.EqualValues(t, 5, n, "the hash was trimmed with the index")
}
