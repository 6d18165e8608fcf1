package app_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkEraseUser measures one erasure job of a user holding n memories
// (default 100,000; ENGRAM_BENCH_ERASE_N overrides), each with its add
// history entry, indexed in SQLite FTS5 and the in-process vector index,
// plus 1,000 query logs and a session, on the embedded profile. Only the
// job is timed (RunJob, with a 1 ms grace period), not the seeding.
func BenchmarkEraseUser(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("ENGRAM_BENCH_ERASE_N")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		e := &privacyEnv{searchEnv: newSearchEnv(b)}
		e.privacy = newBenchPrivacy(b, e)
		tn := sAlice.Tenant()
		for done := 0; done < n; {
			k := min(1000, n-done)
			ms := make([]domain.Memory, k)
			ids := make([]domain.MemoryID, k)
			for i := range ms {
				m, err := domain.NewMemory(tn, "bench", fmt.Sprintf("benchmark memory %d: the user prefers topic %d in the morning", done+i, (done+i)%97), nil, nil, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				ms[i], ids[i] = m, m.ID
			}
			if _, err := e.store.CreateBatch(ctx, tn, ms); err != nil {
				b.Fatal(err)
			}
			if err := e.indexer.Sync(ctx, tn, ids); err != nil {
				b.Fatal(err)
			}
			done += k
		}
		for i := range 1000 {
			q := domain.QueryLog{ID: domain.NewQueryID(time.Now()), OrgID: tn.OrgID, UserID: tn.UserID, Query: fmt.Sprintf("query %d", i),
				Params: domain.SearchParams{}.Resolve(), CreatedAt: time.Now().UTC()}
			if err := e.store.LogQuery(ctx, tn, q); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		job, _, err := e.privacy.EraseMe(ctx, sAlice)
		if err != nil {
			b.Fatal(err)
		}
		done, err := e.privacy.RunJob(ctx, job)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if done.Counts[domain.StoreMemories] != int64(n) {
			b.Fatalf("erased %d memories, want %d", done.Counts[domain.StoreMemories], n)
		}
	}
}

func newBenchPrivacy(b *testing.B, e *privacyEnv) *app.PrivacyService {
	p, err := app.NewPrivacyService(app.PrivacyDeps{
		Jobs: e.store, Store: e.store, Audit: e.store, Text: e.store.TextIndex(), Vectors: e.vectors,
		HashKey: make([]byte, 32), Grace: time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	return p
}
