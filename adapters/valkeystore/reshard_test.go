package valkeystore_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// startClusterNode runs a throwaway cluster-enabled server on port.
func startClusterNode(t *testing.T, bin string, port int) valkey.Client {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf", "--cluster-node-timeout", "2000", "--dir", dir)
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	var c valkey.Client
	require.Eventually(t, func() bool {
		var err error
		c, err = valkey.NewClient(valkey.ClientOption{InitAddress: []string{fmt.Sprint("127.0.0.1:", port)}, ForceSingleClient: true, DisableCache: true})
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	t.Cleanup(c.Close)
	return c
}

// TestClusterSlotMigrationGivesNoWrongAnswer moves the hash slot of one
// user's keys from one primary to the other, key by key with MIGRATE, while
// sessions, idempotency claims, replay checks and rate-limit decisions of
// that slot run. Every call either succeeds with a right answer (the
// client follows ASK and MOVED) or fails with domain.ErrUnavailable (a
// script whose keys are split between the nodes gets TRYAGAIN, which the
// client does not retry for writes); nothing acknowledged is lost, no
// replay key is fresh twice, the bucket never grants more than its burst.
func TestClusterSlotMigrationGivesNoWrongAnswer(t *testing.T) {
	t.Parallel()
	bin := serverBinary(t)
	ctx := context.Background()
	pa, pb := freePort(t), freePort(t)
	a, b := startClusterNode(t, bin, pa), startClusterNode(t, bin, pb)
	require.NoError(t, a.Do(ctx, a.B().Arbitrary("CLUSTER", "ADDSLOTSRANGE", "0", "8191").Build()).Error())
	require.NoError(t, b.Do(ctx, b.B().Arbitrary("CLUSTER", "ADDSLOTSRANGE", "8192", "16383").Build()).Error())
	require.NoError(t, a.Do(ctx, a.B().ClusterMeet().Ip("127.0.0.1").Port(int64(pb)).Build()).Error())
	for _, c := range []valkey.Client{a, b} {
		require.Eventually(t, func() bool {
			info, err := c.Do(ctx, c.B().ClusterInfo().Build()).ToString()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		}, 20*time.Second, 100*time.Millisecond)
	}
	idOf := func(c valkey.Client) string {
		id, err := c.Do(ctx, c.B().ClusterMyid().Build()).ToString()
		require.NoError(t, err)
		return id
	}
	ida, idb := idOf(a), idOf(b)

	s := openTestStore(t, fmt.Sprintf("redis://127.0.0.1:%d?addr=127.0.0.1:%d", pa, pb), valkeystore.Options{})
	require.Equal(t, valkey.ClientModeCluster, s.Client().Mode())
	tn := domain.Tenant{OrgID: "acme", UserID: "bob"}
	tag := "{4%3Aacme/bob}" // the user's hash tag (keys.go)
	slot, err := a.Do(ctx, a.B().ClusterKeyslot().Key(tag).Build()).AsInt64()
	require.NoError(t, err)
	src, dst, srcID, dstID, dstPort := a, b, ida, idb, pb
	if slot >= 8192 {
		src, dst, srcID, dstID, dstPort = b, a, idb, ida, pa
	}
	// Fill the slot so the migration takes a while.
	lim := ports.RateLimit{Burst: 60, Period: time.Hour}
	for i := range 200 {
		e, err := domain.NewSessionEvent(domain.RoleUser, fmt.Sprint("before ", i), nil, time.Now())
		require.NoError(t, err)
		_, err = s.Append(ctx, tn, domain.SessionID(fmt.Sprint("s", i%20)), e)
		require.NoError(t, err)
	}

	var (
		mu        sync.Mutex
		acked     = map[domain.SessionID][]string{}
		fresh     = map[string]bool{}
		allowed   atomic.Int64
		failures  atomic.Int64
		successes atomic.Int64
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	check := func(err error) bool {
		if err == nil {
			successes.Add(1)
			return true
		}
		var ue *domain.UnavailableError
		if !errors.As(err, &ue) || ue.RetryAfter < 1 {
			t.Errorf("not a 503 with Retry-After during the migration: %v", err)
		}
		if n := failures.Add(1); n <= 2 {
			t.Logf("during the migration: %v", err)
		}
		return false
	}
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			sid := domain.SessionID(fmt.Sprint("s", i%20))
			e, err := domain.NewSessionEvent(domain.RoleUser, fmt.Sprint("during ", i), nil, time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := s.Append(ctx, tn, sid, e); check(err) {
				mu.Lock()
				acked[sid] = append(acked[sid], e.ID)
				mu.Unlock()
			}
			_, _, err = s.Begin(ctx, ports.IdempotencyScope(tn), fmt.Sprint("k", i), "fp", time.Minute)
			check(err)
		}
	})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprint(tag, "-jti-", i)
			if ok, err := s.Remember(ctx, key, time.Now().Add(time.Hour)); check(err) && ok {
				mu.Lock()
				fresh[key] = true
				mu.Unlock()
			}
			if i < 120 {
				if d, err := s.Allow(ctx, tag, lim, 1); check(err) && d.Allowed {
					allowed.Add(1)
				}
			}
		}
	})

	// The migration, as redis-cli --cluster reshard does it, slowly.
	require.NoError(t, dst.Do(ctx, dst.B().Arbitrary("CLUSTER", "SETSLOT", fmt.Sprint(slot), "IMPORTING", srcID).Build()).Error())
	require.NoError(t, src.Do(ctx, src.B().Arbitrary("CLUSTER", "SETSLOT", fmt.Sprint(slot), "MIGRATING", dstID).Build()).Error())
	moved := 0
	for {
		keys, err := src.Do(ctx, src.B().ClusterGetkeysinslot().Slot(slot).Count(5).Build()).AsStrSlice()
		require.NoError(t, err)
		if len(keys) == 0 {
			break
		}
		args := append([]string{"127.0.0.1", fmt.Sprint(dstPort), "", "0", "5000", "KEYS"}, keys...)
		require.NoError(t, src.Do(ctx, src.B().Arbitrary("MIGRATE").Args(args...).Build()).Error())
		moved += len(keys)
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range []valkey.Client{dst, src} {
		require.NoError(t, c.Do(ctx, c.B().Arbitrary("CLUSTER", "SETSLOT", fmt.Sprint(slot), "NODE", dstID).Build()).Error())
	}
	time.Sleep(300 * time.Millisecond) // calls against the new owner, through MOVED
	close(stop)
	wg.Wait()
	t.Logf("slot %d: %d keys migrated; %d calls succeeded, %d failed with 503 during the migration", slot, moved, successes.Load(), failures.Load())
	require.Positive(t, moved)

	// Afterwards every call succeeds and nothing acknowledged is lost.
	for sid, ids := range acked {
		got, err := s.Events(ctx, tn, sid, ids)
		require.NoError(t, err, "session %s", sid)
		require.Len(t, got, len(ids))
	}
	for key := range fresh {
		ok, err := s.Remember(ctx, key, time.Now().Add(time.Hour))
		require.NoError(t, err)
		require.False(t, ok, "replay key %s fresh twice", key)
	}
	require.LessOrEqual(t, allowed.Load(), int64(lim.Burst))
	d, err := s.Allow(ctx, tag, lim, 1)
	require.NoError(t, err)
	taken := int64(lim.Burst - d.Remaining)
	require.LessOrEqual(t, taken, allowed.Load()+failures.Load()+1, "the bucket counts no decision nobody made")
	require.GreaterOrEqual(t, taken, min(allowed.Load()+1, int64(lim.Burst)), "the bucket forgot no decision")
	n, err := dst.Do(ctx, dst.B().ClusterCountkeysinslot().Slot(slot).Build()).AsInt64()
	require.NoError(t, err)
	require.Positive(t, n, "the keys are on the new owner")
}
