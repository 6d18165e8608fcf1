package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RelayTarget is one external index as the relay writes it: for one
// tenant, the memories to (re-)index, each at the outbox version it stands
// for, and the ids to remove. Errors wrapping domain.ErrUnavailable mean
// the index (or the embedder) is down; any other error means the index
// refused something in the call.
type RelayTarget interface {
	Apply(ctx context.Context, t domain.Tenant, active []domain.Memory, versions map[domain.MemoryID]int64, gone []domain.MemoryID) error
}

// RelayOptions tune an IndexRelay; zero fields take the defaults.
type RelayOptions struct {
	// Batch is how many rows one claim takes (default 200, at most
	// domain.MaxListLimit).
	Batch int
	// Lease is how long a claim hides its rows from other relays; an
	// application gets half of it as its deadline, so a relay's writes end
	// before another relay may take the rows (default 30 s).
	Lease time.Duration
	// MaxAttempts is how many refusals of one row park it (default 5).
	MaxAttempts int
	// Poll is how often the relay looks for rows it was not told about:
	// other processes' writes, retries that fell due (default 250 ms).
	Poll time.Duration
	// MaxBackoff caps the wait after an outage and between a refused row's
	// attempts (default 1 min).
	MaxBackoff time.Duration
}

func (o RelayOptions) withDefaults() RelayOptions {
	if o.Batch <= 0 || o.Batch > domain.MaxListLimit {
		o.Batch = domain.MaxListLimit
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	return o
}

// IndexRelay applies one external index's outbox rows: it claims them,
// reloads their memories from the store (whatever the store says now is
// what the index gets), writes the index through its RelayTarget, and
// acknowledges each row only after the index accepted it. It never
// deletes a row it did not apply.
//
//   - An index that is down (domain.ErrUnavailable, a deadline) gives the
//     batch back uncounted and waits, doubling from 500 ms up to MaxBackoff.
//   - A refusal of a batch is retried row by row, so one bad document
//     costs only itself: the refused row is retried with backoff and parked
//     with its error after MaxAttempts refusals; the rows behind it go on.
//   - A relay killed mid-batch leaves its rows claimed; the claim lapses
//     after Lease and another relay (or the restarted one) applies them.
//     Index writes are idempotent upserts and deletes keyed by memory id,
//     and each carries the row's version, so applying a row twice is
//     harmless and an index that compares versions never takes an older one.
//
// Several relays (engramd replicas) may run against one outbox: claims
// keep them off each other's rows.
type IndexRelay struct {
	name   string
	outbox ports.IndexOutbox
	mem    ports.MemoryStore
	target RelayTarget
	o      RelayOptions
	log    *slog.Logger
	kick   chan struct{}

	applied, refused, parked atomic.Int64
}

// NewIndexRelay relays outbox rows of index name to target, loading
// memories from mem.
func NewIndexRelay(name string, outbox ports.IndexOutbox, mem ports.MemoryStore, target RelayTarget, o RelayOptions, log *slog.Logger) *IndexRelay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &IndexRelay{name: name, outbox: outbox, mem: mem, target: target, o: o.withDefaults(),
		log: log.With("index", name), kick: make(chan struct{}, 1)}
}

// Name is the index the relay feeds.
func (r *IndexRelay) Name() string { return r.name }

// Stats reads the index's outbox totals.
func (r *IndexRelay) Stats(ctx context.Context) (ports.OutboxStats, error) {
	return r.outbox.Stats(ctx, r.name)
}

// Counts are what this relay did since it started: rows applied, refusals,
// rows parked.
func (r *IndexRelay) Counts() (applied, refused, parked int64) {
	return r.applied.Load(), r.refused.Load(), r.parked.Load()
}

// MemoriesChanged wakes the relay after a write of this process committed
// (its rows are already in the outbox), so the index follows within one
// round trip instead of one poll. It never fails.
func (r *IndexRelay) MemoriesChanged(context.Context, domain.Tenant, []domain.MemoryID) error {
	select {
	case r.kick <- struct{}{}:
	default:
	}
	return nil
}

// errOutage marks a drain stopped by an index or store outage.
var errOutage = errors.New("outage")

// Drain applies rows until none is due, and reports how many it applied.
// It stops at the first outage, with the batch given back.
func (r *IndexRelay) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := r.step(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// step claims and applies one batch; more reports a full batch.
func (r *IndexRelay) step(ctx context.Context) (applied int, more bool, err error) {
	rows, err := r.outbox.Claim(ctx, r.name, r.o.Batch, r.o.Lease)
	if err != nil {
		return 0, false, fmt.Errorf("relay %s: claim: %w", r.name, err)
	}
	if len(rows) == 0 {
		return 0, false, nil
	}
	// The deadline ends the writes well before the claim lapses.
	actx, cancel := context.WithTimeout(ctx, r.o.Lease/2)
	defer cancel()
	byTenant := map[domain.Tenant][]ports.OutboxRow{}
	var order []domain.Tenant
	for _, row := range rows {
		if byTenant[row.Tenant] == nil {
			order = append(order, row.Tenant)
		}
		byTenant[row.Tenant] = append(byTenant[row.Tenant], row)
	}
	var outage error
	for _, t := range order {
		group := byTenant[t]
		if outage != nil {
			r.release(ctx, group)
			continue
		}
		n, err := r.applyGroup(actx, ctx, t, group)
		applied += n
		if err != nil {
			outage = err
		}
	}
	if outage != nil {
		return applied, false, fmt.Errorf("relay %s: %w: %w", r.name, errOutage, outage)
	}
	return applied, len(rows) == r.o.Batch, nil
}

// applyGroup applies one tenant's rows and settles each of them: acked,
// failed (refused) or released (outage, returned as the error).
func (r *IndexRelay) applyGroup(actx, ctx context.Context, t domain.Tenant, rows []ports.OutboxRow) (int, error) {
	err := r.apply(actx, t, rows)
	switch {
	case err == nil:
		if err := r.outbox.Ack(ctx, r.name, rows); err != nil {
			// Applied but not acked: the rows come back after the lease
			// and are applied again, which is harmless.
			return 0, err
		}
		r.applied.Add(int64(len(rows)))
		return len(rows), nil
	case isOutage(err):
		r.release(ctx, rows)
		return 0, err
	case len(rows) > 1:
		// Find the rows the index refuses, one by one.
		n := 0
		for i, row := range rows {
			k, err := r.applyGroup(actx, ctx, t, []ports.OutboxRow{row})
			n += k
			if err != nil {
				r.release(ctx, rows[i+1:])
				return n, err
			}
		}
		return n, nil
	}
	row := rows[0]
	r.refused.Add(1)
	attempt := row.Attempts + 1
	park := attempt >= r.o.MaxAttempts
	if park {
		r.parked.Add(1)
		r.log.Error("index refused a memory repeatedly: parked (engram outbox parked lists it)",
			"org", t.OrgID, "memory", row.ID, "attempts", attempt, "err", err)
	} else {
		r.log.Warn("index refused a memory; will retry", "org", t.OrgID, "memory", row.ID, "attempt", attempt, "err", err)
	}
	if ferr := r.outbox.Fail(ctx, r.name, row, truncate(err.Error(), 1000), r.backoff(attempt), park); ferr != nil {
		return 0, ferr
	}
	return 0, nil
}

// apply loads the rows' memories from the store and writes the index.
func (r *IndexRelay) apply(ctx context.Context, t domain.Tenant, rows []ports.OutboxRow) error {
	ids := make([]domain.MemoryID, len(rows))
	versions := make(map[domain.MemoryID]int64, len(rows))
	for i, row := range rows {
		ids[i] = row.ID
		versions[row.ID] = row.Version
	}
	// On the primary: the rows are committed there, a replica may not
	// have them yet.
	page, err := r.mem.List(ports.WithPrimaryReads(ctx), t, domain.ListQuery{IDs: ids, States: allStates, Limit: len(ids)})
	if err != nil {
		return fmt.Errorf("load %d memories: %w", len(ids), err)
	}
	active := make([]domain.Memory, 0, len(page.Items))
	isActive := make(map[domain.MemoryID]bool, len(page.Items))
	for _, m := range page.Items {
		if m.State == domain.StateActive {
			active = append(active, m)
			isActive[m.ID] = true
		}
	}
	var gone []domain.MemoryID
	for _, id := range ids {
		if !isActive[id] {
			gone = append(gone, id)
		}
	}
	return r.target.Apply(ctx, t, active, versions, gone)
}

func (r *IndexRelay) release(ctx context.Context, rows []ports.OutboxRow) {
	if err := r.outbox.Release(ctx, r.name, rows); err != nil {
		// The claim lapses after the lease instead.
		r.log.Warn("giving rows back failed; they return after the lease", "rows", len(rows), "err", err)
	}
}

// backoff is the wait before attempt n+1: 1 s doubling, capped.
func (r *IndexRelay) backoff(n int) time.Duration {
	d := time.Second << min(n-1, 20)
	return min(d, r.o.MaxBackoff)
}

func isOutage(err error) bool {
	return errors.Is(err, domain.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Run drains the outbox whenever it is kicked and every Poll, until ctx
// ends; after an outage it waits (500 ms doubling to MaxBackoff) before the
// next try.
func (r *IndexRelay) Run(ctx context.Context) {
	poll := time.NewTicker(r.o.Poll)
	defer poll.Stop()
	wait := time.Duration(0)
	for {
		_, err := r.Drain(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			wait = min(max(2*wait, 500*time.Millisecond), r.o.MaxBackoff)
			r.log.Warn("index relay paused after a failure; will retry", "in", wait, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		wait = 0
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-poll.C:
		}
	}
}

// TextTarget writes a text index.
type TextTarget struct{ Index ports.TextIndex }

// Apply implements RelayTarget.
func (x TextTarget) Apply(ctx context.Context, t domain.Tenant, active []domain.Memory, versions map[domain.MemoryID]int64, gone []domain.MemoryID) error {
	if err := x.Index.Delete(ctx, t, gone); err != nil {
		return fmt.Errorf("text delete: %w", err)
	}
	docs := textDocs(active)
	for i := range docs {
		docs[i].Version = versions[docs[i].ID]
	}
	if err := x.Index.Index(ctx, t, docs); err != nil {
		return fmt.Errorf("text index: %w", err)
	}
	return nil
}

// VectorTarget embeds and writes a vector index.
type VectorTarget struct {
	Index    ports.VectorIndex
	Embedder ports.Embedder
}

// Apply implements RelayTarget.
func (x VectorTarget) Apply(ctx context.Context, t domain.Tenant, active []domain.Memory, versions map[domain.MemoryID]int64, gone []domain.MemoryID) error {
	if err := x.Index.Delete(ctx, t, gone); err != nil {
		return fmt.Errorf("vector delete: %w", err)
	}
	ix := &Indexer{d: IndexerDeps{Embedder: x.Embedder}}
	docs, err := ix.vectorDocs(ctx, active)
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	for i := range docs {
		docs[i].Version = versions[docs[i].ID]
	}
	if err := x.Index.Upsert(ctx, t, docs); err != nil {
		return fmt.Errorf("vector upsert: %w", err)
	}
	return nil
}
