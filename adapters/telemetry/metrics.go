package telemetry

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/engram-memory/engram/domain"
)

// metrics are the collectors T owns. Names follow Prometheus conventions
// (base units, _total counters); docs/operations.md lists them with alerts.
type metrics struct {
	depDuration *prometheus.HistogramVec
	depUp       *prometheus.GaugeVec
	breaker     *prometheus.GaugeVec
	retries     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	failOpen    *prometheus.CounterVec
	httpTotal   *prometheus.CounterVec
	httpLatency *prometheus.HistogramVec
	unavailable *prometheus.CounterVec
	// unavailableDeps is the label set unavailable has grown, bounded by
	// maxUnavailableDeps (the rest count as "other").
	unavailableDeps *labelSet
}

// labelSet is a bounded set of label values seen so far.
type labelSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

func newMetrics(r prometheus.Registerer) metrics {
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := metrics{
		depDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "engram_dependency_duration_seconds",
			Help: "Latency of calls to a dependency (store, index, cache, embedder) by operation and outcome (ok, client_error, unavailable, error).",
			// 100 µs (in-process caches) to 10 s (a slow embedder).
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}, []string{"dependency", "operation", "outcome"}),
		depUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "engram_dependency_up",
			Help: "1 when the dependency's last call succeeded or gave a domain answer, 0 when it failed as unavailable.",
		}, []string{"dependency"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "engram_circuit_breaker_state",
			Help: "Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open.",
		}, []string{"dependency"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engram_dependency_retries_total",
			Help: "Retries of idempotent dependency calls after a backend failure.",
		}, []string{"dependency", "operation"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engram_rate_limit_rejections_total",
			Help: "Requests refused by the rate limiter (answered 429).",
		}, []string{"dependency"}),
		failOpen: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engram_rate_limit_fail_open_total",
			Help: "Rate-limit decisions that failed (limiter unavailable); the API lets such requests through.",
		}, []string{"dependency"}),
		httpTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engram_http_requests_total",
			Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "engram_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route template.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"method", "route"}),
		unavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engram_http_unavailable_total",
			Help: "Requests answered 503 by the dependency that was unavailable (deadline: the request ran out of time; unknown: no dependency named).",
		}, []string{"dependency"}),
		unavailableDeps: &labelSet{seen: map[string]bool{}},
	}
	f(m.depDuration)
	f(m.depUp)
	f(m.breaker)
	f(m.retries)
	f(m.rateLimited)
	f(m.failOpen)
	f(m.httpTotal)
	f(m.httpLatency)
	f(m.unavailable)
	return m
}

// maxUnavailableDeps bounds engram_http_unavailable_total's label set.
// Dependency names come from the code (the resilience policies and the
// adapters name their backend), never from a request, but the bound keeps
// a future mistake from growing /metrics without end.
const maxUnavailableDeps = 24

// RecordUnavailable counts one 503 answered because dependency was
// unavailable. The name is folded to [a-z0-9_] of at most 32 bytes, and
// names beyond the first maxUnavailableDeps count as "other".
func (t *T) RecordUnavailable(dependency string) {
	label := dependencyLabel(dependency)
	ls := t.m.unavailableDeps
	ls.mu.Lock()
	if !ls.seen[label] {
		if len(ls.seen) >= maxUnavailableDeps {
			label = "other"
		} else {
			ls.seen[label] = true
		}
	}
	ls.mu.Unlock()
	t.m.unavailable.WithLabelValues(label).Inc()
}

func dependencyLabel(dep string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(dep) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('_')
		}
		if b.Len() >= 32 {
			break
		}
	}
	out := strings.TrimRight(b.String(), "_")
	if out == "" {
		return "unknown"
	}
	return out
}

// Outcome classifies a call's error for the latency histogram: a domain
// answer (not found, invalid, conflict, ...) is the dependency working.
func Outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, domain.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "unavailable"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, domain.ErrInvalid), errors.Is(err, domain.ErrConflict),
		errors.Is(err, domain.ErrAlreadyExists), errors.Is(err, domain.ErrForbidden), errors.Is(err, domain.ErrTooLarge):
		return "client_error"
	}
	return "error"
}

// RecordRetry counts one retry (resilience.Options.OnRetry).
func (t *T) RecordRetry(dependency, op string) { t.m.retries.WithLabelValues(dependency, op).Inc() }

// SetBreakerState exports a breaker's state (resilience.Options.OnStateChange
// passes its State, whose values are the gauge's).
func (t *T) SetBreakerState(dependency string, state int) {
	t.m.breaker.WithLabelValues(dependency).Set(float64(state))
}

// SetUp marks a dependency up or down (the decorators do it on every call;
// readiness probes may too).
func (t *T) SetUp(dependency string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	t.m.depUp.WithLabelValues(dependency).Set(v)
}

// WatchIndexLag exports pending() — app.Indexer.Pending, the memories
// written but not yet in every index — as engram_index_pending.
func (t *T) WatchIndexLag(pending func() int) error {
	return t.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "engram_index_pending",
		Help: "Memories written to the store but not yet in every index (index lag).",
	}, func() float64 { return float64(pending()) }))
}

// OutboxReading is one read of an external index's outbox.
type OutboxReading struct {
	Backlog, Parked int
	OldestAge       time.Duration
}

// WatchOutbox exports an external index's durable outbox, read at each
// scrape: engram_outbox_backlog, engram_outbox_oldest_age_seconds and
// engram_outbox_parked, labelled index=name. A read that fails (the store
// is down) reports -1, so a dashboard tells "unknown" from "empty".
func (t *T) WatchOutbox(name string, read func(ctx context.Context) (OutboxReading, error)) error {
	var (
		mu   sync.Mutex
		last struct {
			at  time.Time
			r   OutboxReading
			err error
		}
	)
	// One read serves the three gauges of a scrape.
	get := func() (OutboxReading, error) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last.at) > time.Second {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			last.r, last.err = read(ctx)
			cancel()
			last.at = time.Now()
		}
		return last.r, last.err
	}
	gauge := func(metric, help string, val func(OutboxReading) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: metric, Help: help, ConstLabels: prometheus.Labels{"index": name}},
			func() float64 {
				r, err := get()
				if err != nil {
					return -1
				}
				return val(r)
			})
	}
	return errors.Join(
		t.Registry.Register(gauge("engram_outbox_backlog", "Outbox rows an external index has not applied yet.",
			func(r OutboxReading) float64 { return float64(r.Backlog) })),
		t.Registry.Register(gauge("engram_outbox_oldest_age_seconds", "Age of the oldest outbox row an external index has not applied; 0 when none.",
			func(r OutboxReading) float64 { return r.OldestAge.Seconds() })),
		t.Registry.Register(gauge("engram_outbox_parked", "Outbox rows parked after repeated refusals by an external index.",
			func(r OutboxReading) float64 { return float64(r.Parked) })),
	)
}

// WatchDB exports a database/sql pool (open, in use, idle, waits) as the
// go_sql_* metrics with db_name=name.
func (t *T) WatchDB(name string, db *sql.DB) error {
	return t.Registry.Register(collectors.NewDBStatsCollector(db, name))
}

// PoolStats is a client-side connection pool's usage, for backends that
// are not database/sql (Valkey).
type PoolStats struct {
	Open, InUse int
}

// WatchPool exports stats() as engram_pool_connections{pool=name,state}.
func (t *T) WatchPool(name string, stats func() PoolStats) error {
	gauge := func(state string, get func(PoolStats) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "engram_pool_connections",
			Help:        "Connections of a client pool by state (open, in_use).",
			ConstLabels: prometheus.Labels{"pool": name, "state": state},
		}, func() float64 { return float64(get(stats())) })
	}
	return errors.Join(
		t.Registry.Register(gauge("open", func(s PoolStats) int { return s.Open })),
		t.Registry.Register(gauge("in_use", func(s PoolStats) int { return s.InUse })),
	)
}

// Probe wraps a readiness probe so that each /readyz check also updates
// engram_dependency_up and the latency histogram (operation "probe"): the
// gauge then moves even when no request touches the dependency.
func (t *T) Probe(dependency string, probe func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error { return run(ctx, t, dependency, "probe", probe) }
}

// ReplicaReading is one read replica's last sample.
type ReplicaReading struct {
	Up       bool
	Lag      time.Duration
	LagBytes uint64
}

// WatchReplicas exports each named read replica's state as
// engram_pg_replica_up, engram_pg_replica_lag_seconds and
// engram_pg_replica_lag_bytes{replica=name}; read returns the readings in
// names' order (the store samples them in the background, so a scrape
// costs nothing).
func (t *T) WatchReplicas(names []string, read func() []ReplicaReading) error {
	var errs []error
	for i, name := range names {
		gauge := func(metric, help string, val func(ReplicaReading) float64) prometheus.Collector {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: metric, Help: help, ConstLabels: prometheus.Labels{"replica": name}},
				func() float64 {
					rs := read()
					if i >= len(rs) {
						return -1
					}
					return val(rs[i])
				})
		}
		errs = append(errs,
			t.Registry.Register(gauge("engram_pg_replica_up", "1 when a PostgreSQL read replica serves reads (answering, in recovery, within the allowed lag).",
				func(r ReplicaReading) float64 {
					if r.Up {
						return 1
					}
					return 0
				})),
			t.Registry.Register(gauge("engram_pg_replica_lag_seconds", "How long ago the primary wrote WAL a read replica has not replayed yet; 0 when caught up.",
				func(r ReplicaReading) float64 { return r.Lag.Seconds() })),
			t.Registry.Register(gauge("engram_pg_replica_lag_bytes", "Bytes of WAL a read replica has not replayed yet.",
				func(r ReplicaReading) float64 { return float64(r.LagBytes) })),
		)
	}
	return errors.Join(errs...)
}

// HTTPGatherer gathers the HTTP request metrics alone
// (engram_http_requests_total and engram_http_request_duration_seconds, the
// same collectors the registry serves): the dashboard's stats page reads
// them in process on every view, without running the registry's other
// collectors, some of which query the database.
func (t *T) HTTPGatherer() prometheus.Gatherer {
	r := prometheus.NewRegistry()
	r.MustRegister(t.m.httpTotal, t.m.httpLatency)
	return r
}
