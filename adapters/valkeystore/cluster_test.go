package valkeystore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// clusterURL turns ENGRAM_TEST_VALKEY_CLUSTER_ADDRS (host:port,host:port,…)
// into one URL: the first node, the others as ?addr= seeds.
func clusterURL(t testing.TB) string {
	addrs := strings.Split(contracttest.BackendAddr(t, contracttest.ValkeyCluster), ",")
	u := "redis://" + strings.TrimSpace(addrs[0])
	for i, a := range addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + strings.TrimSpace(a)
	}
	return u
}

// newClusterStore is newStore on the test cluster; it fails when the
// client did not become a cluster client.
func newClusterStore(t testing.TB, o valkeystore.Options) *valkeystore.Store {
	t.Helper()
	s := openTestStore(t, clusterURL(t), o)
	require.Equal(t, valkey.ClientModeCluster, s.Client().Mode(), "%s is not a cluster", clusterURL(t))
	return s
}

// TestClusterContracts runs the contract suite of every port the adapter
// serves against a three-primary Valkey/Redis Cluster.
func TestClusterContracts(t *testing.T) {
	t.Parallel()
	t.Run("ReplayCache", func(t *testing.T) {
		t.Parallel()
		contracttest.RunReplayCache(t, func(t *testing.T) ports.ReplayCache { return newClusterStore(t, valkeystore.Options{}) })
	})
	t.Run("RateLimiter", func(t *testing.T) {
		t.Parallel()
		contracttest.RunRateLimiter(t, func(t *testing.T) ports.RateLimiter { return newClusterStore(t, valkeystore.Options{}) })
	})
	t.Run("SessionStore", func(t *testing.T) {
		t.Parallel()
		contracttest.RunSessionStore(t, func(t *testing.T, s contracttest.SessionSetup) ports.SessionStore {
			return newClusterStore(t, valkeystore.Options{SessionTTL: s.TTL, MaxEvents: s.MaxEvents, HalfLife: s.HalfLife, MaxBytesPerUser: int64(s.MaxBytesPerUser)})
		})
	})
	t.Run("IdempotencyStore", func(t *testing.T) {
		contracttest.RunIdempotencyStore(t, func(t *testing.T) ports.IdempotencyStore { return newClusterStore(t, valkeystore.Options{}) })
	})
	t.Run("IdempotencyQuota", func(t *testing.T) {
		contracttest.RunIdempotencyQuota(t, func(t *testing.T) ports.IdempotencyStore {
			return newClusterStore(t, valkeystore.Options{MaxBytesPerUser: 8 << 10})
		})
	})
	t.Run("SessionEraser", func(t *testing.T) {
		t.Parallel()
		contracttest.RunSessionEraser(t, func(t *testing.T) contracttest.SessionEraserStore { return newClusterStore(t, valkeystore.Options{}) })
	})
	t.Run("IdempotencyEraser", func(t *testing.T) {
		t.Parallel()
		contracttest.RunIdempotencyEraser(t, func(t *testing.T) contracttest.IdempotencyEraserStore {
			return newClusterStore(t, valkeystore.Options{})
		})
	})
}

// TestClusterUserKeysShareOneSlot: a user's sessions, idempotency records
// and byte ledger hash to one slot (the scripts touching several of them
// would fail CROSSSLOT otherwise), users spread over the nodes, and
// DeletePrefixed finds keys on every primary.
func TestClusterUserKeysShareOneSlot(t *testing.T) {
	t.Parallel()
	s := newClusterStore(t, valkeystore.Options{})
	ctx := context.Background()
	users := []domain.Tenant{{OrgID: "o:1", UserID: "u"}, {OrgID: "o", UserID: "{x}"}, {OrgID: "acme", UserID: "bob"}, {OrgID: "acme", UserID: "eve"}}
	for _, tn := range users {
		e, err := domain.NewSessionEvent(domain.RoleUser, "hi", nil, time.Now())
		require.NoError(t, err)
		_, err = s.Append(ctx, tn, "chat", e)
		require.NoError(t, err)
		_, claimed, err := s.Begin(ctx, ports.IdempotencyScope(tn), "k1", "fp", time.Minute)
		require.NoError(t, err)
		require.True(t, claimed)
	}
	c := s.Client()
	slotsOf := map[string]map[int64]bool{}
	total := 0
	for _, n := range c.Nodes() {
		keys, err := n.Do(ctx, n.B().Keys().Pattern(s.Prefix()+":*").Build()).AsStrSlice()
		require.NoError(t, err)
		total += len(keys)
		for _, k := range keys {
			slot, err := n.Do(ctx, n.B().ClusterKeyslot().Key(k).Build()).AsInt64()
			require.NoError(t, err)
			tag := k[strings.Index(k, "{"):strings.Index(k, "}")]
			if slotsOf[tag] == nil {
				slotsOf[tag] = map[int64]bool{}
			}
			slotsOf[tag][slot] = true
		}
	}
	require.Len(t, slotsOf, len(users), "one tag per user")
	spread := map[int64]bool{}
	for tag, slots := range slotsOf {
		require.Len(t, slots, 1, "the keys of %s lie in one slot", tag)
		for sl := range slots {
			spread[sl] = true
		}
	}
	require.Greater(t, len(spread), 1, "users are spread over slots")
	require.Equal(t, len(users)*5, total, "2 session keys, 1 record, 2 ledger keys per user")
	n, err := s.DeletePrefixed(ctx)
	require.NoError(t, err)
	require.Equal(t, total, n, "keys on every primary are deleted")
}
