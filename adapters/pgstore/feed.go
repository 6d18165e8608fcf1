package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Feed is the store's change feed (ports.ChangeFeed) on PostgreSQL: a
// trigger on memory_changes NOTIFYs each statement's changes at commit
// (migration 0031), and Feed LISTENs on its own connection, queueing what
// other processes wrote (rows whose origin is this store's are left out).
// Changes hands out the queue; nothing touches the database while idle.
//
// A notification sent while the listening connection was down is lost, so
// after a reconnect the next Changes catches up by reading, org by org
// (inside each org's row-level security), the changes after the last seq
// seen minus a margin: seq is handed out before commit, so a change can
// commit after one with a higher seq. Re-reading a change is harmless.
type Feed struct {
	s      *Store
	l      *pq.Listener
	origin string
	done   chan struct{}
	ping   time.Duration // how often the listener's connection is pinged

	mu     sync.Mutex
	queue  []ports.ChangeRef
	maxSeq int64
	lost   bool
}

var _ ports.ChangeFeed = (*Feed)(nil)

// catchUpMargin is how far below the last seen seq a catch-up starts: more
// than the changes in flight at any moment.
const catchUpMargin = 10_000

// Feed starts listening on this schema's change channel; url is the store's
// (its search_path names the schema). Close it before the store.
func (s *Store) Feed(ctx context.Context, url string) (*Feed, error) {
	var channel string
	var head int64
	err := s.db.QueryRowContext(ctx, `SELECT 'engram_changes_' || left(md5(current_schema()), 16),
		coalesce(pg_sequence_last_value(pg_get_serial_sequence('memory_changes', 'seq')::regclass), 0)`).Scan(&channel, &head)
	if err != nil {
		return nil, fmt.Errorf("pgstore: feed: %w", mapErr(err))
	}
	io := s.io
	if io <= 0 {
		io = Config{Options: s.opts}.ioTimeout()
	}
	f := &Feed{s: s, origin: s.opts.Origin, done: make(chan struct{}), maxSeq: head, ping: io}
	f.l = pq.NewDialListener(listenerDialer(io), url, 100*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, _ error) {
		if ev == pq.ListenerEventReconnected || ev == pq.ListenerEventConnectionAttemptFailed {
			f.mu.Lock()
			f.lost = true
			f.mu.Unlock()
		}
	})
	// Listen waits until the listener is connected, however long: bound it
	// by ctx. Close returns because every dial and read is bounded.
	listened := make(chan error, 1)
	go func() { listened <- f.l.Listen(channel) }()
	select {
	case err = <-listened:
	case <-ctx.Done():
		err = &domain.UnavailableError{Dependency: "postgres", Err: fmt.Errorf("no listener connection: %w", ctx.Err())}
	}
	if err != nil {
		_ = f.l.Close()
		return nil, fmt.Errorf("pgstore: feed: listen: %w", mapErr(err))
	}
	go f.receive()
	return f, nil
}

// listenerDialer bounds the listener's connection: a dial within io, and
// every read and write within 3 io. The listener waits on its socket for
// notifications, so it is pinged every io (receive): a live server
// answers long before 3 io, a frozen one fails the socket and the
// listener reconnects (the feed then catches up from the table).
func listenerDialer(io time.Duration) *boundedDialer {
	d := newBoundedDialer(3*io, time.Time{})
	d.d.Timeout = io
	d.d.Control = userTimeoutControl(3 * io)
	return d
}

// Close stops listening.
func (f *Feed) Close() error {
	err := f.l.Close()
	<-f.done
	return err
}

func (f *Feed) receive() {
	defer close(f.done)
	ping := time.NewTicker(f.ping)
	defer ping.Stop()
	for {
		select {
		case n, ok := <-f.l.Notify:
			if !ok {
				return
			}
			if n == nil { // reconnected: notifications may have been missed
				f.mu.Lock()
				f.lost = true
				f.mu.Unlock()
				continue
			}
			f.enqueue(n.Extra)
		case <-ping.C:
			// A dead connection is only noticed when used.
			_ = f.l.Ping()
		}
	}
}

func (f *Feed) enqueue(payload string) {
	var rows [][]any
	if err := json.Unmarshal([]byte(payload), &rows); err != nil {
		f.mu.Lock()
		f.lost = true // unreadable: catch up from the table instead
		f.mu.Unlock()
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rows {
		if len(r) != 5 {
			continue
		}
		seq, _ := r[0].(float64)
		org, _ := r[1].(string)
		user, _ := r[2].(string)
		id, _ := r[3].(string)
		origin, _ := r[4].(string)
		f.maxSeq = max(f.maxSeq, int64(seq))
		if f.origin != "" && origin == f.origin {
			continue
		}
		f.queue = append(f.queue, ports.ChangeRef{Seq: int64(seq),
			Tenant: domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}, ID: domain.MemoryID(id)})
	}
}

// Head is the highest seq this feed has heard of (at start, the latest seq
// handed out).
func (f *Feed) Head(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxSeq, nil
}

// Changes returns up to limit queued changes of other processes, in commit
// order; after a lost connection, first those it catches up from the table.
// Seq is not commit order on PostgreSQL: a change may follow one with a
// higher Seq, and after does not filter the queue.
func (f *Feed) Changes(ctx context.Context, _ int64, limit int) ([]ports.ChangeRef, error) {
	f.mu.Lock()
	lost, from := f.lost, f.maxSeq-catchUpMargin
	f.lost = false
	f.mu.Unlock()
	var out []ports.ChangeRef
	if lost {
		refs, err := f.catchUp(ctx, max(from, 0))
		if err != nil {
			f.mu.Lock()
			f.lost = true
			f.mu.Unlock()
			return nil, err
		}
		out = refs
	}
	f.mu.Lock()
	n := min(limit, len(f.queue))
	out = append(out, f.queue[:n]...)
	f.queue = f.queue[n:]
	f.mu.Unlock()
	return out, nil
}

// catchUp reads every org's changes after seq from the table.
func (f *Feed) catchUp(ctx context.Context, after int64) ([]ports.ChangeRef, error) {
	orgs, err := f.s.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	var out []ports.ChangeRef
	for _, org := range orgs {
		err := f.s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
			var rows []struct {
				Seq    int64  `db:"seq"`
				User   string `db:"user_id"`
				Memory string `db:"memory_id"`
			}
			if err := tx.SelectContext(ctx, &rows, `SELECT seq, user_id, memory_id::text AS memory_id FROM memory_changes
				WHERE org_id = $1 AND seq > $2 AND origin IS DISTINCT FROM NULLIF($3, '') ORDER BY seq`, org, after, f.origin); err != nil {
				return err
			}
			for _, r := range rows {
				out = append(out, ports.ChangeRef{Seq: r.Seq, Tenant: domain.Tenant{OrgID: org, UserID: domain.UserID(r.User)},
					ID: domain.MemoryID(r.Memory)})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("pgstore: feed catch-up of org %s: %w", org, mapErr(err))
		}
	}
	return out, nil
}
