package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

// Feedback benchmarks (issue 7), against the real PostgreSQL through the
// non-owner login role:
//
//	go test -run '^$' -bench 'Feedback' -benchtime 3x ./adapters/pgstore/

func feedbackBatch(org domain.OrgID, n int, at time.Time) []domain.FeedbackEvent {
	q := domain.NewQueryID(at)
	out := make([]domain.FeedbackEvent, n)
	for i := range out {
		out[i] = domain.FeedbackEvent{
			ID: domain.NewID(at), OrgID: org, UserID: domain.UserID(fmt.Sprintf("u%d", i%50)), QueryID: q,
			MemoryID: domain.NewMemoryID(at), App: "agent", Outcome: domain.Outcomes[i%4], Rating: 1 + i%5,
			LatencyMS: i, CreatedAt: at,
		}
	}
	return out
}

// BenchmarkFeedbackIngest appends batches of 1,000 events from 4 concurrent
// writers, as several API servers would.
func BenchmarkFeedbackIngest(b *testing.B) {
	s := newStore(b, pgstore.Options{})
	ctx := context.Background()
	const batch, writers = 1000, 4
	batches := make([][]domain.FeedbackEvent, writers*b.N)
	for i := range batches {
		batches[i] = feedbackBatch("bench-org", batch, time.Now())
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < len(batches); i += writers {
				if err := s.AppendFeedback(ctx, "bench-org", batches[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(len(batches)*batch)/time.Since(start).Seconds(), "events/s")
}

// seedFeedbackRows loads n events of org straight into the schema as its
// owner with one INSERT ... SELECT generate_series: building 1M rows through
// the API would dominate the run. Events spread over 30 days, 8 apps, two
// variants and four outcomes.
func seedFeedbackRows(b *testing.B, ownerURL string, org domain.OrgID, n int) {
	db, err := sqlx.Open("postgres", ownerURL)
	require.NoError(b, err)
	defer db.Close()
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `
		INSERT INTO feedback_events (id, org_id, user_id, query_id, memory_id, app_id, outcome, rating, experiment_id, variant, latency_ms, created_at)
		SELECT gen_random_uuid(), $1, 'u' || (g % 1000), gen_random_uuid(), gen_random_uuid(), 'app-' || (g % 8),
		       (ARRAY['accepted','rejected','ignored','edited'])[1 + g % 4], NULLIF(g % 6, 0),
		       CASE WHEN g % 3 = 0 THEN NULL ELSE '0190a000-0000-7000-8000-000000000001'::uuid END,
		       CASE WHEN g % 3 = 0 THEN NULL WHEN g % 3 = 1 THEN 'control' ELSE 'treatment' END,
		       g % 5000, now() - (g % 2592000) * interval '1 second'
		FROM generate_series(1, $2) AS g`, string(org), n)
	require.NoError(b, err)
	_, err = db.ExecContext(ctx, `VACUUM ANALYZE feedback_events`)
	require.NoError(b, err)
}

// BenchmarkFeedbackMetrics1M times FeedbackMetrics over one org's 1M events
// (another org's 100k beside them), for the whole history, the last 7 days
// and one experiment, and reports p50/p95.
func BenchmarkFeedbackMetrics1M(b *testing.B) {
	ownerURL, appURL := testSchema(b)
	seedFeedbackRows(b, ownerURL, "big-org", 1_000_000)
	seedFeedbackRows(b, ownerURL, "other-org", 100_000)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, Options: pgstore.Options{StatementTimeout: -1}})
	require.NoError(b, err)
	defer s.Close()
	for _, c := range []struct {
		name string
		f    domain.FeedbackFilter
	}{
		{"all", domain.FeedbackFilter{}},
		{"last7d", domain.FeedbackFilter{Since: time.Now().Add(-7 * 24 * time.Hour)}},
		{"experiment", domain.FeedbackFilter{ExperimentID: "0190a000-0000-7000-8000-000000000001"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			m, err := s.FeedbackMetrics(ctx, "big-org", c.f)
			require.NoError(b, err)
			require.Positive(b, m.Outcomes.Total())
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := s.FeedbackMetrics(ctx, "big-org", c.f); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)*95+99)/100-1].Microseconds())/1000, "p95-ms")
		})
	}
}
