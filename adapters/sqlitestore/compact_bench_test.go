package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkCompact measures Store.Compact (FTS5 'optimize' and a TRUNCATE
// WAL checkpoint), which an erasure job runs once at its end, in an
// instance holding n memories of 100 users, all in the text index
// (ENGRAM_BENCH_COMPACT_N, a comma list; default 100000). Each iteration
// first indexes and then deletes 1,000 memories of one more user, as an
// erasure of that user would, and times Compact alone.
func BenchmarkCompact(b *testing.B) {
	sizes := []int{100_000}
	if v := os.Getenv("ENGRAM_BENCH_COMPACT_N"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(b, err)
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("memories=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(b.TempDir(), "engram.db")})
			require.NoError(b, err)
			defer s.Close()
			text := s.TextIndex()
			for u := range 100 {
				tn := domain.Tenant{OrgID: "bench-org", UserID: domain.UserID(fmt.Sprintf("user-%d", u))}
				compactSeed(b, s, text, tn, n/100)
			}
			require.NoError(b, compactRetrying(ctx, s))
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				victim := domain.Tenant{OrgID: "bench-org", UserID: domain.UserID(fmt.Sprintf("victim-%d", i))}
				ids := compactSeed(b, s, text, victim, 1000)
				require.NoError(b, text.Delete(ctx, victim, ids))
				b.StartTimer()
				require.NoError(b, compactRetrying(ctx, s))
			}
		})
	}
}

// compactSeed stores and indexes n memories of tn in batches of 1,000.
func compactSeed(b *testing.B, s *sqlitestore.Store, text *sqlitestore.TextIndex, tn domain.Tenant, n int) []domain.MemoryID {
	ctx := context.Background()
	var ids []domain.MemoryID
	for done := 0; done < n; {
		k := min(1000, n-done)
		ms := make([]domain.Memory, k)
		docs := make([]ports.TextDoc, k)
		for i := range ms {
			m, err := domain.NewMemory(tn, "bench", fmt.Sprintf("memory %d of %s: prefers topic %d and word%d in the morning", done+i, tn.UserID, (done+i)%97, (done+i)%5003), nil, nil, time.Now())
			require.NoError(b, err)
			ms[i] = m
			docs[i] = ports.TextDoc{ID: m.ID, Text: m.Text, AppID: "bench", CreatedAt: m.CreatedAt}
			ids = append(ids, m.ID)
		}
		_, err := s.CreateBatch(ctx, tn, ms)
		require.NoError(b, err)
		require.NoError(b, text.Index(ctx, tn, docs))
		done += k
	}
	return ids
}

// compactRetrying retries a Compact that found the WAL busy (a reader's
// snapshot), as the erasure job does on its next attempt.
func compactRetrying(ctx context.Context, s *sqlitestore.Store) error {
	var err error
	for range 50 {
		if err = s.Compact(ctx); err == nil || !errors.Is(err, domain.ErrUnavailable) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}
