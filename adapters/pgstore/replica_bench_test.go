package pgstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkReadsPrimaryVsReplica measures list and full-text search
// throughput side by side in one run: "primary" reads the primary alone,
// "replica" routes the same reads to the streaming replica
// (ENGRAM_TEST_POSTGRES_REPLICA_URL) while the primary stays idle. Each
// runs b.RunParallel with GOMAXPROCS × -cpu goroutines over one tenant of
// 5,000 memories (pages of 20; search limit 20).
//
//	go test -run '^$' -bench ReadsPrimaryVsReplica -cpu 8 -benchtime 3s ./adapters/pgstore/
//
// On one machine both servers share its cores, so the figure says what
// a replica adds on that machine only; docs/scaling.md has the numbers.
// What does carry over to separate machines is each server's CPU time per
// read (primary-cpu-ms/op, replica-cpu-ms/op, from /proc when the servers
// run here; other users of the primary add to its figure) and this
// process's (client-cpu-ms/op): routed reads should move their cost from
// the primary to the replica.
func BenchmarkReadsPrimaryVsReplica(b *testing.B) {
	_, appURL := testSchema(b)
	repBase := contracttest.BackendAddr(b, contracttest.Replica)
	repURL := replicaURLFor(b, appURL, repBase)
	ctx := context.Background()
	primary, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 16})
	require.NoError(b, err)
	b.Cleanup(func() { _ = primary.Close() })
	routed, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 16, Replicas: pgstore.Replicas{URLs: []string{repURL}}})
	require.NoError(b, err)
	b.Cleanup(func() { _ = routed.Close() })
	ten := domain.Tenant{OrgID: "bench", UserID: "reader"}
	const n = 5000
	ms := make([]domain.Memory, n)
	for i := range ms {
		ms[i] = benchMemory(b, ten, i)
	}
	_, err = primary.CreateBatch(ctx, ten, ms)
	require.NoError(b, err)
	require.Eventually(b, func() bool {
		st := routed.Replicas()[0]
		return st.Up && st.LagBytes == 0
	}, 60*time.Second, 50*time.Millisecond)
	words := []string{"window", "seats", "green", "tea", "flights", "coffee"}
	admin, _ := adminDB(b)
	repAdmin, err := sqlx.Open("postgres", repBase)
	require.NoError(b, err)
	b.Cleanup(func() { _ = repAdmin.Close() })
	servers := []struct {
		unit string
		cpu  func() time.Duration
	}{{"primary-cpu-ms/op", serverCPU(admin)}, {"replica-cpu-ms/op", serverCPU(repAdmin)}, {"client-cpu-ms/op", cpuSelf}}
	// measured runs fn and reports each server's CPU time per op.
	measured := func(b *testing.B, fn func()) {
		before := make([]time.Duration, len(servers))
		for i, s := range servers {
			if s.cpu != nil {
				before[i] = s.cpu()
			}
		}
		fn()
		for i, s := range servers {
			if s.cpu != nil {
				b.ReportMetric(float64((s.cpu()-before[i]).Microseconds())/1000/float64(b.N), s.unit)
			}
		}
	}
	for _, tc := range []struct {
		name string
		s    *pgstore.Store
	}{{"primary", primary}, {"replica", routed}} {
		text := tc.s.TextIndex(pgstore.TextOptions{})
		b.Run("list/"+tc.name, func(b *testing.B) {
			measured(b, func() {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := tc.s.List(ctx, ten, domain.ListQuery{Limit: 20}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
		b.Run("search/"+tc.name, func(b *testing.B) {
			measured(b, func() {
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						i++
						q := fmt.Sprintf("%s %s", words[i%len(words)], words[(i+1)%len(words)])
						if _, err := text.Search(ctx, ten, q, 20, domain.SearchFilter{}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// BenchmarkReplicaLagUnderWriteBurst writes b.N memories from 8 goroutines
// as fast as the primary takes them and samples the replica's lag every
// 50 ms meanwhile; it reports the largest lag seen (seconds and bytes) and
// how long after the burst the replica had replayed all of it.
//
//	go test -run '^$' -bench ReplicaLagUnderWriteBurst -benchtime 5000x ./adapters/pgstore/
func BenchmarkReplicaLagUnderWriteBurst(b *testing.B) {
	_, appURL := testSchema(b)
	repURL := replicaURLFor(b, appURL, contracttest.BackendAddr(b, contracttest.Replica))
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 16, Replicas: pgstore.Replicas{URLs: []string{repURL}, Interval: 50 * time.Millisecond}})
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	require.Eventually(b, func() bool { return s.Replicas()[0].Up }, 30*time.Second, 20*time.Millisecond)
	ten := domain.Tenant{OrgID: "bench", UserID: "writer"}
	var maxLag time.Duration
	var maxBytes uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				st := s.Replicas()[0]
				maxLag, maxBytes = max(maxLag, st.Lag), max(maxBytes, st.LagBytes)
			}
		}
	}()
	b.SetParallelism(4) // 4 × GOMAXPROCS writers
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.Create(ctx, ten, benchMemory(b, ten, int(n.Add(1)))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	pos, err := s.CommitPosition(ctx)
	require.NoError(b, err)
	burstEnd := time.Now()
	_, err = s.List(ports.WithReadAfter(ctx, pos), ten, domain.ListQuery{Limit: 1})
	require.NoError(b, err)
	require.Eventually(b, func() bool { return s.Replicas()[0].LagBytes == 0 || s.Replicas()[0].Lag == 0 }, 60*time.Second, 10*time.Millisecond)
	caughtUp := time.Since(burstEnd)
	close(stop)
	<-sampled
	b.ReportMetric(maxLag.Seconds(), "max-lag-s")
	b.ReportMetric(float64(maxBytes), "max-lag-bytes")
	b.ReportMetric(caughtUp.Seconds(), "catch-up-s")
}
