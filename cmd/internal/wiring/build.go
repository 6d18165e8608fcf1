package wiring

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/mcpserver"
	"github.com/engram-memory/engram/adapters/oauthserver"
	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
)

// System is a wired serving process: what engramd and `engram mcp` use of
// what Build composed, and what it takes to close it all.
type System struct {
	Config   config.Config
	Logger   *slog.Logger
	Memories *app.MemoryService
	Verifier ports.TokenVerifier
	// LocalKey is set in zero-config mode: tokens are minted from it.
	LocalKey *jwtauth.LocalKey
	API      *httpapi.Server
	MCP      *mcpserver.Server
	// OAuth is the built-in authorization server; nil with an external
	// issuer.
	OAuth      *oauthserver.Server
	oauthStore ports.OAuthStore
	// Privacy runs erasure jobs (StartPrivacyWorker) and subject access.
	Privacy *app.PrivacyService
	tel     *telemetry.T
	closers closers
}

// Build opens every backend cfg names, decorates every port alike, and wires
// the use cases and transports, in this order and nowhere else. On error
// everything opened so far is closed.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *System, err error) {
	var cl closers
	defer func() {
		if err != nil {
			_ = cl.Close()
		}
	}()
	dec := newDecorator(cfg, log)
	// Registered first, so it runs last: spans of the final writes flush.
	cl.add(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return dec.tel.Shutdown(ctx)
	})

	cfg = SealNewEmbeddedStore(cfg)
	raw, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	cl.add(raw.Close)
	if err := RefuseUnfinishedMigration(ctx, raw); err != nil {
		return nil, err
	}
	store := dec.backend(raw)

	caches, err := OpenCaches(ctx, cfg, log, raw.SessionKeys)
	if err != nil {
		return nil, err
	}
	cl.add(caches.Close)
	caches = dec.caches(caches)

	auth, err := openVerifier(ctx, cfg, caches.Replay)
	if err != nil {
		return nil, err
	}
	cl.add(auth.Close)

	keys, stopKeys, err := newKeys(ctx, store, caches, log)
	if err != nil {
		return nil, err
	}
	cl.add(stopKeys)
	// API keys are checked before tokens; anything else goes on to the
	// JWT verifier.
	verifier := keys.Verifier(auth.Verifier)

	search, err := OpenSearch(ctx, cfg, raw)
	if err != nil {
		return nil, err
	}
	cl.add(search.Close)
	search = dec.search(search)

	// Before the use cases: its write guard goes into each of them.
	privacy, err := newPrivacy(cfg, log, store, search, caches)
	if err != nil {
		return nil, err
	}
	core, err := NewCore(ctx, store, search, CoreOptions{Load: true, Logger: log, Guard: privacy, TTLs: privacy})
	if err != nil {
		return nil, err
	}
	// Closed before the store (closers run in reverse): queued access-log
	// entries are written first.
	cl.add(func() error { core.Close(); return nil })
	cl.add(retryPendingLoop(core.Indexer, log))
	cl.add(repairLoop(core.Indexer))
	// The relays start now, except Qdrant's while unbound: it starts once
	// its Bind succeeds (until then its rows wait in the outbox).
	bound := make(chan struct{})
	for _, r := range core.Relays {
		start := closedChan
		if core.Unbound && r.Name() == search.VectorsName {
			start = bound
		}
		cl.add(runRelay(r, start))
	}
	if core.Unbound {
		cl.add(bindLater(core.Indexer, log, func() { close(bound) }))
	}
	for _, r := range core.Relays {
		if err := dec.tel.WatchOutbox(r.Name(), outboxReading(r)); err != nil {
			log.Warn("outbox metrics not registered", "index", r.Name(), "err", err)
		}
		for i := range search.Checks {
			if search.Checks[i].Name == r.Name() {
				search.Checks[i].Outbox = r.Stats
				search.Checks[i].Pending = nil
			}
		}
	}
	if core.Follower != nil {
		cl.add(follow(core.Follower))
	}
	if err := dec.tel.WatchIndexLag(core.Indexer.Pending); err != nil {
		log.Warn("index lag metric not registered", "err", err)
	}
	if vc := search.VectorCache; vc != nil {
		if err := dec.tel.WatchVectorCache(func() telemetry.VectorCacheStats {
			st := vc.Stats()
			return telemetry.VectorCacheStats{
				Tenants: st.Tenants, Bytes: st.Bytes, BudgetBytes: st.BudgetSize,
				Hits: st.Hits, PageIns: st.Loads, Evictions: st.Evictions,
				PagedIn: st.PagedIn, PageInTime: st.PageInTime, PageInEmbedTime: st.EmbedTime,
			}
		}); err != nil {
			log.Warn("vector cache metrics not registered", "err", err)
		}
	}

	checks := append([]httpapi.Check{store.Check}, store.ReplicaChecks...)
	checks = append(checks, caches.Checks...)
	checks = append(checks, auth.Checks...)
	checks = append(checks, search.Checks...)
	checks = append(checks, httpapi.Check{Name: "search_index", Pending: core.Indexer.Pending,
		Probe: func(context.Context) error { return nil }})

	llm, err := NewLLM(cfg)
	if err != nil {
		return nil, err
	}
	svc, err := newServices(cfg, log, store, caches, core, privacy, dec.llm(llm))
	if err != nil {
		return nil, err
	}
	if svc.inference.Enabled() {
		cl.add(runInferenceWorker(svc.inference, log))
	}
	as, err := newOAuthServer(cfg, log, auth, raw.OAuth, caches.Limiter)
	if err != nil {
		return nil, err
	}
	var grants *app.GrantService
	if as != nil {
		grants = app.NewGrantService(raw.OAuth, nil)
	}
	api, mcp, err := newTransports(cfg, log, dec.tel, transportDeps{
		oauth: as, grants: grants,
		core: core, svc: svc, verifier: verifier, checks: checks, idempotency: caches.Idempotency, positions: store.Positions,
		keys: keys, owners: store.Owners,
		// The archive ports are the store's own, undecorated beside its
		// decorated memory port (an export streams for minutes: no
		// per-call deadline fits it).
		archive: archiveDeps(cfg, raw, core, search.Embedder),
	})
	if err != nil {
		return nil, err
	}
	if err := mountDashboard(ctx, cfg, log, api, as, raw.OAuth, raw.UISessions, verifier, dec.tel.HTTPGatherer()); err != nil {
		return nil, err
	}
	return &System{
		Config: cfg, Logger: log, Memories: core.Memories, Verifier: verifier, LocalKey: auth.LocalKey,
		API: api, MCP: mcp, OAuth: as, oauthStore: raw.OAuth, Privacy: privacy, tel: dec.tel, closers: cl,
	}, nil
}

// Close releases every backend in reverse order of opening.
func (s *System) Close() error { return s.closers.Close() }

// Telemetry is the System's tracer provider and metric registry.
func (s *System) Telemetry() *telemetry.T { return s.tel }

// Handler is the HTTP handler engramd serves. Every request is traced and
// counted per route (engram_http_*), continuing the caller's traceparent.
func (s *System) Handler() http.Handler { return s.tel.HTTP(s.API.Handler()) }

// closers run in reverse order of registration.
type closers []func() error

func (c *closers) add(f func() error) { *c = append(*c, f) }

func (c closers) Close() error {
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i]())
	}
	return errors.Join(errs...)
}

// FollowInterval is how often a serving process polls the store's change
// feed for other processes' writes: well under the 1 s in which a write
// through one process must be searchable through every other. An idle
// SQLite poll is one PRAGMA.
const FollowInterval = 100 * time.Millisecond

// follow runs the follower until the returned func stops it.
func follow(f *app.ChangeFollower) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx, FollowInterval) }()
	return func() error { cancel(); <-done; return nil }
}

// closedChan is a start signal already given.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// runRelay runs an outbox relay once start is closed, until the returned
// func stops it.
func runRelay(r *app.IndexRelay, start <-chan struct{}) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-start:
			r.Run(ctx)
		case <-ctx.Done():
		}
	}()
	return func() error { cancel(); <-done; return nil }
}

// runInferenceWorker runs queued inference events until the returned
// closer stops it (an event cut off is claimed again after its lease).
func runInferenceWorker(inf *app.Inference, log *slog.Logger) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		inf.RunWorker(ctx, 500*time.Millisecond, log)
	}()
	return func() error { cancel(); <-done; return nil }
}

// outboxReading adapts a relay's outbox totals to the metric's reading.
func outboxReading(r *app.IndexRelay) func(ctx context.Context) (telemetry.OutboxReading, error) {
	return func(ctx context.Context) (telemetry.OutboxReading, error) {
		st, err := r.Stats(ctx)
		if err != nil {
			return telemetry.OutboxReading{}, err
		}
		out := telemetry.OutboxReading{Backlog: st.Backlog, Parked: st.Parked}
		if !st.Oldest.IsZero() {
			out.OldestAge = max(0, time.Since(st.Oldest))
		}
		return out, nil
	}
}

// bindLater retries binding the vector index every few seconds until it
// succeeds, then calls bound (which starts the vector relay: the outbox
// holds what was written meanwhile).
func bindLater(ix *app.Indexer, log *slog.Logger, bound func()) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := ix.Bind(ctx); err == nil {
					log.Info("vector index bound: vector search is back")
					bound()
					return
				}
			}
		}
	}()
	return func() error { cancel(); <-done; return nil }
}

// driftRepairEvery is how often the indexes are checked against the store
// while serving (see app.Indexer.KeepRepaired).
const driftRepairEvery = 5 * time.Second

// repairLoop keeps the text index (and the vectors of what it repairs) in
// step with the store while serving, not only at start: a write committed
// behind a lost answer sent no change notice.
func repairLoop(ix *app.Indexer) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ix.KeepRepaired(ctx, driftRepairEvery) }()
	return func() error { cancel(); <-done; return nil }
}

// retryPendingLoop re-applies index changes that failed (an index or the
// embedder was down) until they succeed; the store stays the system of
// record meanwhile. The returned func stops it.
func retryPendingLoop(ix *app.Indexer, log *slog.Logger) func() error {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if ix.Pending() == 0 {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				if err := ix.RetryPending(ctx); err != nil {
					log.Warn("index retry failed; will try again", "pending", ix.Pending(), "err", err)
				}
				cancel()
			}
		}
	}()
	return func() error { close(stop); <-done; return nil }
}
