package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// accessQueue takes access-log entries off the read path: a GET must not
// wait for a write (on SQLite, for the single writer). One goroutine groups
// entries by tenant and writes them every flushEvery or every maxPending
// entries, whichever comes first. Enqueue blocks when the queue is full, so
// entries are slowed down, never dropped; flush gives read-your-own-access
// consistency to the "accessed by app" view in this process, writing only
// the caller's own entries so one tenant's page never waits for another's.
type accessQueue struct {
	log      ports.AccessLog
	apps     ports.AppStore
	logger   *slog.Logger
	in       chan accessBatch
	flushReq chan flushRequest
	every    time.Duration
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once

	knownMu sync.Mutex
	known   map[appKey]bool // apps known to exist; apps are never deleted
	pending map[domain.Tenant][]domain.Access
	count   int
}

// flushRequest asks the writer for one tenant's pending entries now.
type flushRequest struct {
	t     domain.Tenant
	reply chan struct{}
}

type accessBatch struct {
	t       domain.Tenant
	entries []domain.Access
}

type appKey struct {
	t   domain.Tenant
	app domain.AppID
}

const (
	accessFlushEvery = 50 * time.Millisecond
	accessMaxPending = 1024
	accessQueueLen   = 4096
	// accessWriteTimeout bounds one write of the queued entries.
	accessWriteTimeout = 10 * time.Second
	maxKnownApps       = 100_000
)

func newAccessQueue(l ports.AccessLog, apps ports.AppStore, logger *slog.Logger) *accessQueue {
	return newAccessQueueEvery(l, apps, logger, accessFlushEvery)
}

func newAccessQueueEvery(l ports.AccessLog, apps ports.AppStore, logger *slog.Logger, every time.Duration) *accessQueue {
	q := &accessQueue{
		log: l, apps: apps, logger: logger, every: every,
		in: make(chan accessBatch, accessQueueLen), flushReq: make(chan flushRequest),
		stop: make(chan struct{}), done: make(chan struct{}),
		known: map[appKey]bool{}, pending: map[domain.Tenant][]domain.Access{},
	}
	go q.run()
	return q
}

// enqueue hands entries to the writer; it blocks while the queue is full
// unless ctx ends first, in which case the entries are written inline.
func (q *accessQueue) enqueue(ctx context.Context, t domain.Tenant, entries []domain.Access) {
	select {
	case q.in <- accessBatch{t: t, entries: entries}:
	case <-q.done:
		q.write(context.WithoutCancel(ctx), t, entries)
	case <-ctx.Done():
		q.write(context.WithoutCancel(ctx), t, entries)
	}
}

// flush returns after every entry of t enqueued before the call is written.
func (q *accessQueue) flush(ctx context.Context, t domain.Tenant) {
	reply := make(chan struct{})
	select {
	case q.flushReq <- flushRequest{t: t, reply: reply}:
	case <-q.done:
		return
	case <-ctx.Done():
		return
	}
	select {
	case <-reply:
	case <-ctx.Done():
	}
}

// close writes what is pending and stops the writer.
func (q *accessQueue) close() {
	q.once.Do(func() { close(q.stop) })
	<-q.done
}

func (q *accessQueue) run() {
	defer close(q.done)
	tick := time.NewTicker(q.every)
	defer tick.Stop()
	for {
		select {
		case b := <-q.in:
			q.add(b)
			if q.count >= accessMaxPending {
				q.writePending()
			}
		case <-tick.C:
			q.writePending()
		case r := <-q.flushReq:
			q.drain()
			ctx, cancel := context.WithTimeout(context.Background(), accessWriteTimeout)
			q.writeTenant(ctx, r.t)
			cancel()
			close(r.reply)
		case <-q.stop:
			q.drain()
			q.writePending()
			return
		}
	}
}

// drain moves everything already queued into pending.
func (q *accessQueue) drain() {
	for {
		select {
		case b := <-q.in:
			q.add(b)
		default:
			return
		}
	}
}

func (q *accessQueue) add(b accessBatch) {
	q.pending[b.t] = append(q.pending[b.t], b.entries...)
	q.count += len(b.entries)
}

func (q *accessQueue) writePending() {
	if q.count == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), accessWriteTimeout)
	defer cancel()
	for t := range q.pending {
		q.writeTenant(ctx, t)
	}
}

// writeTenant writes t's pending entries only (a flush waits for these).
func (q *accessQueue) writeTenant(ctx context.Context, t domain.Tenant) {
	entries := q.pending[t]
	if len(entries) == 0 {
		return
	}
	q.write(ctx, t, entries)
	delete(q.pending, t)
	q.count -= len(entries)
}

// known is read by the writer goroutine and by a reader that writes inline
// because its context ended or the queue closed, hence the lock.
func (q *accessQueue) isKnown(k appKey) bool {
	q.knownMu.Lock()
	defer q.knownMu.Unlock()
	return q.known[k]
}

func (q *accessQueue) markKnown(k appKey) {
	q.knownMu.Lock()
	defer q.knownMu.Unlock()
	if len(q.known) >= maxKnownApps {
		clear(q.known)
	}
	q.known[k] = true
}

// write makes sure each acting app exists, then records the entries. A
// failure is logged: the reads themselves already succeeded.
func (q *accessQueue) write(ctx context.Context, t domain.Tenant, entries []domain.Access) {
	for _, e := range entries {
		k := appKey{t: t, app: e.AppID}
		if q.isKnown(k) {
			continue
		}
		if _, err := q.apps.EnsureApp(ctx, t, e.AppID); err != nil {
			q.logger.WarnContext(ctx, "access log: ensure app failed", "app", e.AppID, "err", err)
			return
		}
		q.markKnown(k)
	}
	if err := q.log.RecordAccess(ctx, t, entries); err != nil {
		q.logger.WarnContext(ctx, "access log: record failed", "count", len(entries), "err", err)
	}
}
