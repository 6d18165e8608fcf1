package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// eraseBenchStore is what the erasure benchmark needs of a system of
// record.
type eraseBenchStore interface {
	ports.MemoryStore
	ports.MemoryScanner
	ports.QueryLog
	ports.FeedbackStore
	ports.ErasureJobs
	ports.SubjectStore
	ports.AuditLog
}

// eraseBenchEnv is one engine's stores for BenchmarkEraseUser.
type eraseBenchEnv struct {
	store    eraseBenchStore
	text     ports.TextIndex
	vectors  ports.VectorIndex
	sessions interface {
		ports.SessionStore
		ports.SessionEraser
	}
	compact func(context.Context) error
}

// BenchmarkEraseUser measures one erasure job of a user holding n memories
// (default 100,000; ENGRAM_BENCH_ERASE_N overrides), each with its add
// history entry, indexed in the engine's text index and the in-process
// vector index, plus 1,000 updates (history), 1,000 query logs and 100
// sessions of 20 events, with another user's 1,000 memories beside them.
// sqlite is the embedded profile (FTS5, in-process sessions, Compact at
// the end of the job as engramd wires it); postgres is the fleet profile
// (PostgreSQL text index, Valkey sessions; skipped without
// ENGRAM_TEST_POSTGRES_URL and ENGRAM_TEST_VALKEY_ADDR). Only the job is
// timed (EraseMe + RunJob with a 1 ms grace period), not the seeding.
func BenchmarkEraseUser(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("ENGRAM_BENCH_ERASE_N")); err == nil && v > 0 {
		n = v
	}
	b.Run("sqlite", func(b *testing.B) {
		runEraseBench(b, n, func(b *testing.B) eraseBenchEnv {
			e := newSearchEnv(b)
			s := inproc.NewSessionStore(inproc.SessionOptions{})
			b.Cleanup(func() { _ = s.Close() })
			return eraseBenchEnv{store: e.store, text: e.store.TextIndex(), vectors: e.vectors, sessions: s, compact: e.store.Compact}
		})
	})
	b.Run("postgres", func(b *testing.B) {
		runEraseBench(b, n, func(b *testing.B) eraseBenchEnv {
			pg := openBenchPostgres(b)
			addr := contracttest.BackendAddr(b, contracttest.Valkey)
			var p [6]byte
			_, _ = rand.Read(p[:])
			vs, err := valkeystore.Open(context.Background(), valkeystore.Config{URL: "redis://" + addr,
				Options: valkeystore.Options{Prefix: "bench-erase-" + hex.EncodeToString(p[:])}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = vs.Close() })
			return eraseBenchEnv{store: pg, text: pg.TextIndex(pgstore.TextOptions{}), vectors: inproc.NewVectorIndex(), sessions: vs}
		})
	})
}

// openBenchPostgres migrates a fresh schema (dropped at the end) and opens
// the store on it.
func openBenchPostgres(b *testing.B) *pgstore.Store {
	b.Helper()
	base := contracttest.BackendAddr(b, contracttest.Postgres)
	ctx := context.Background()
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = admin.Close() })
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "engram_bench_" + hex.EncodeToString(r[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	if _, err := pgstore.Migrate(ctx, u.String(), pgstore.Up); err != nil {
		b.Fatal(err)
	}
	pg, err := pgstore.Open(ctx, pgstore.Config{URL: u.String(), MaxOpenConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pg.Close() })
	return pg
}

func runEraseBench(b *testing.B, n int, open func(*testing.B) eraseBenchEnv) {
	ctx := context.Background()
	var cpu time.Duration
	// This process's CPU time for the job: on a loaded machine the wall
	// time mostly measures the wait for a core. PostgreSQL's own work runs
	// in its server processes and is not in it.
	defer func() { b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op") }()
	for range b.N {
		b.StopTimer()
		env := open(b)
		embed, err := localembed.New(localembed.Options{})
		if err != nil {
			b.Fatal(err)
		}
		indexer := app.NewIndexer(app.IndexerDeps{Memories: env.store, Scanner: env.store, Text: env.text, Vectors: env.vectors, Embedder: embed})
		if err := indexer.Bind(ctx); err != nil {
			b.Fatal(err)
		}
		privacy, err := app.NewPrivacyService(app.PrivacyDeps{
			Jobs: env.store, Store: env.store, Audit: env.store, Text: env.text, Vectors: env.vectors, Sessions: env.sessions,
			HashKey: make([]byte, 32), Grace: time.Millisecond, Compact: env.compact,
		})
		if err != nil {
			b.Fatal(err)
		}
		tn := sAlice.Tenant()
		other := domain.Tenant{OrgID: tn.OrgID, UserID: "bystander"}
		seedEraseBench(b, env, indexer, tn, n)
		seedEraseBench(b, env, indexer, other, 1000)
		cpu0 := processCPU()
		b.StartTimer()
		job, _, err := privacy.EraseMe(ctx, sAlice)
		if err != nil {
			b.Fatal(err)
		}
		done, err := privacy.RunJob(ctx, job)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += processCPU() - cpu0
		if got := done.Counts[domain.StoreMemories]; got != int64(n) {
			b.Fatalf("erased %d memories, want %d", got, n)
		}
		if got := done.Counts[domain.StoreSessions]; got != 100 {
			b.Fatalf("erased %d sessions, want 100", got)
		}
		left, err := env.store.SubjectMemories(ctx, domain.Subject(other), 2000)
		if err != nil || len(left) != 1000 {
			b.Fatalf("bystander has %d memories left (%v), want 1000", len(left), err)
		}
	}
}

// seedEraseBench writes n memories of tn (indexed), 1,000 updates,
// 1,000 query logs and 100 sessions of 20 events.
func seedEraseBench(b *testing.B, env eraseBenchEnv, indexer *app.Indexer, tn domain.Tenant, n int) {
	ctx := context.Background()
	var first []domain.MemoryID
	for done := 0; done < n; {
		k := min(1000, n-done)
		ms := make([]domain.Memory, k)
		ids := make([]domain.MemoryID, k)
		for i := range ms {
			m, err := domain.NewMemory(tn, "bench", fmt.Sprintf("benchmark memory %d of %s: the user prefers topic %d in the morning", done+i, tn.UserID, (done+i)%97), nil, nil, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			ms[i], ids[i] = m, m.ID
		}
		if _, err := env.store.CreateBatch(ctx, tn, ms); err != nil {
			b.Fatal(err)
		}
		if err := indexer.Sync(ctx, tn, ids); err != nil {
			b.Fatal(err)
		}
		if first == nil {
			first = ids
		}
		done += k
	}
	for i, id := range first[:min(1000, len(first))] {
		if _, err := env.store.Update(ctx, tn, id, "bench", func(m *domain.Memory) error {
			m.Text = fmt.Sprintf("revised memory %d of %s", i, tn.UserID)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1000 {
		q := domain.QueryLog{ID: domain.NewQueryID(time.Now()), OrgID: tn.OrgID, UserID: tn.UserID, Query: fmt.Sprintf("query %d", i),
			Params: domain.SearchParams{}.Resolve(), CreatedAt: time.Now().UTC()}
		if err := env.store.LogQuery(ctx, tn, q); err != nil {
			b.Fatal(err)
		}
	}
	for s := range 100 {
		for e := range 20 {
			ev, err := domain.NewSessionEvent(domain.RoleUser, fmt.Sprintf("turn %d of session %d", e, s), nil, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := env.sessions.Append(ctx, tn, domain.SessionID(fmt.Sprintf("chat-%d", s)), ev); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
