package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Replicas configures read routing to PostgreSQL streaming replicas.
//
// Lag-tolerant reads (List, and through it search hydration and exports;
// History; Stats; the full-text search) go to a healthy replica; writes,
// reads inside writes and every other read stay on the primary. A replica
// is healthy when it answers, is in recovery (a promoted or unrelated
// server is never read), passes the same runtime-role check as the primary
// (so row-level security applies there exactly as on the primary: a
// physical replica has the same roles and policies) and is at most MaxLag
// behind. Anything else is skipped without the caller noticing: the read
// goes to another replica or to the primary.
//
// Read-your-writes: a read whose context carries ports.WithReadAfter(c) is
// served by a replica only once it has replayed past c; the store waits up
// to Wait for one, then reads the primary. A c past the primary's own
// position is domain.ErrInvalid (a token from the future, or from another
// cluster).
type Replicas struct {
	URLs []string
	// MaxLag skips a replica further behind than this; default 10s.
	MaxLag time.Duration
	// Wait bounds the wait for a replica to replay a read-after
	// position; default 250ms, then the primary serves.
	Wait time.Duration
	// Interval is how often each replica's replay position and the
	// primary's WAL position are sampled; default 200ms.
	Interval time.Duration
}

// ReplicaStatus is one replica's last sample, for readiness and metrics.
// Name is "replica0", "replica1", … in configuration order (never the
// host: /readyz is unauthenticated).
type ReplicaStatus struct {
	Name string
	Up   bool // answering, in recovery, role checked, within MaxLag
	// Lag is how long ago the primary had written WAL this replica has not
	// replayed yet (0 when caught up), at the sampling interval's
	// resolution; LagBytes is the same distance in bytes.
	Lag      time.Duration
	LagBytes uint64
	Err      error // why it is not Up
}

type replica struct {
	name string
	db   *sqlx.DB

	mu       sync.Mutex
	answered bool // the last sample got an answer
	checked  bool // the role check passed once
	replay   uint64
	lag      time.Duration
	lagBytes uint64
	err      error
}

type posSample struct {
	at  time.Time
	pos uint64
}

type replicaSet struct {
	primary *sqlx.DB
	cfg     Replicas
	reps    []*replica
	next    atomic.Uint64 // round robin
	role    func(ctx context.Context, db *sqlx.DB) error

	mu      sync.Mutex
	samples []posSample // the primary's WAL position over the last MaxLag

	stop context.CancelFunc
	done chan struct{}
}

// openReplicas dials every replica without failing on any: an unreachable
// replica is recorded down, retried every Interval, and skipped until it
// answers. It samples once before returning so that a healthy replica
// serves from the first read.
func openReplicas(ctx context.Context, primary *sqlx.DB, cfg Replicas, maxConns int, io time.Duration, role func(context.Context, *sqlx.DB) error) (*replicaSet, error) {
	if cfg.MaxLag <= 0 {
		cfg.MaxLag = 10 * time.Second
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 250 * time.Millisecond
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 200 * time.Millisecond
	}
	rs := &replicaSet{primary: primary, cfg: cfg, role: role, done: make(chan struct{})}
	for i, u := range cfg.URLs {
		if _, err := url.Parse(u); err != nil {
			rs.closeAll()
			return nil, domain.Invalid("postgres_replica_urls", "replica %d: %v", i, err)
		}
		db, err := openBounded(withBinaryParameters(u), io)
		if err != nil {
			rs.closeAll()
			return nil, domain.Invalid("postgres_replica_urls", "replica %d: %v", i, err)
		}
		db.SetMaxOpenConns(maxConns)
		db.SetMaxIdleConns(maxConns)
		db.SetConnMaxLifetime(30 * time.Minute)
		db.SetConnMaxIdleTime(5 * time.Minute)
		rs.reps = append(rs.reps, &replica{name: fmt.Sprintf("replica%d", i), db: db, err: errors.New("not sampled yet")})
	}
	first, cancel := context.WithTimeout(ctx, 2*time.Second)
	rs.sample(first)
	cancel()
	bg, stop := context.WithCancel(context.Background())
	rs.stop = stop
	go rs.run(bg)
	return rs, nil
}

func (rs *replicaSet) run(ctx context.Context) {
	defer close(rs.done)
	t := time.NewTicker(rs.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sctx, cancel := context.WithTimeout(ctx, max(rs.cfg.Interval, time.Second))
			rs.sample(sctx)
			cancel()
		}
	}
}

func (rs *replicaSet) close() error {
	if rs.stop != nil {
		rs.stop()
		<-rs.done
	}
	return rs.closeAll()
}

func (rs *replicaSet) closeAll() error {
	var errs []error
	for _, r := range rs.reps {
		errs = append(errs, r.db.Close())
	}
	return errors.Join(errs...)
}

// sample reads the primary's WAL position, then every replica's replay
// position, and works out each replica's lag.
func (rs *replicaSet) sample(ctx context.Context) {
	var pos uint64
	if p, err := walPosition(ctx, rs.primary, `SELECT pg_current_wal_lsn()::text`); err == nil {
		pos = p
		rs.remember(posSample{at: time.Now(), pos: pos})
	}
	var wg sync.WaitGroup
	for _, r := range rs.reps {
		wg.Go(func() { rs.sampleOne(ctx, r) })
	}
	wg.Wait()
}

func (rs *replicaSet) remember(s posSample) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.samples = append(rs.samples, s)
	// Keep MaxLag's worth, plus one older sample to measure against.
	cut := 0
	for cut < len(rs.samples)-1 && s.at.Sub(rs.samples[cut+1].at) > rs.cfg.MaxLag {
		cut++
	}
	rs.samples = append(rs.samples[:0], rs.samples[cut:]...)
}

// lagOf is how long ago the primary first had WAL past replay: the time
// since the oldest sample whose position is beyond it. Beyond the oldest
// sample kept, the lag is at least the window (more than MaxLag).
func (rs *replicaSet) lagOf(replay uint64, now time.Time) (time.Duration, uint64) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.samples) == 0 {
		return 0, 0
	}
	last := rs.samples[len(rs.samples)-1]
	if replay >= last.pos {
		return 0, 0
	}
	for i, s := range rs.samples {
		if s.pos > replay {
			if i == 0 {
				return max(now.Sub(s.at), rs.cfg.MaxLag+time.Nanosecond), last.pos - replay
			}
			return now.Sub(s.at), last.pos - replay
		}
	}
	return 0, 0
}

func (rs *replicaSet) primaryPos() uint64 {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.samples) == 0 {
		return 0
	}
	return rs.samples[len(rs.samples)-1].pos
}

func (rs *replicaSet) sampleOne(ctx context.Context, r *replica) {
	var (
		inRecovery bool
		replay     string
	)
	err := r.db.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn()::text, '0/0')`).Scan(&inRecovery, &replay)
	r.mu.Lock()
	checked := r.checked
	r.mu.Unlock()
	if err == nil && !inRecovery {
		err = errors.New("not in recovery (a primary, not a replica): never read")
	}
	if err == nil && !checked {
		if err = rs.role(ctx, r.db); err == nil {
			checked = true
		}
	}
	var pos uint64
	if err == nil {
		var c domain.Consistency
		if c, err = domain.ParseConsistency(replay); err == nil {
			pos = uint64(c)
		}
	}
	lag, lagBytes := rs.lagOf(pos, time.Now())
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answered, r.checked, r.err = err == nil, checked, err
	if err == nil {
		r.replay, r.lag, r.lagBytes = max(r.replay, pos), lag, lagBytes
	}
}

// usable reports whether r may serve and how far it has replayed.
func (r *replica) usable(maxLag time.Duration) (uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.replay, r.answered && r.checked && r.lag <= maxLag
}

// markDown takes r out of rotation until the next sample finds it well.
func (r *replica) markDown(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answered, r.err = false, err
}

func (r *replica) status(maxLag time.Duration) ReplicaStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := ReplicaStatus{Name: r.name, Lag: r.lag, LagBytes: r.lagBytes, Err: r.err}
	st.Up = r.answered && r.checked && r.lag <= maxLag
	if r.answered && r.checked && !st.Up {
		st.Err = fmt.Errorf("%s behind the primary (more than %s)", r.lag.Round(time.Millisecond), maxLag)
	}
	return st
}

func walPosition(ctx context.Context, db *sqlx.DB, query string) (uint64, error) {
	var s string
	if err := db.QueryRowContext(ctx, query).Scan(&s); err != nil {
		return 0, err
	}
	c, err := domain.ParseConsistency(s)
	return uint64(c), err
}

// pick chooses where a lag-tolerant read under ctx goes: a usable replica
// that has replayed past the context's read-after position (round robin),
// else, after waiting up to Wait for the most advanced one, the primary.
// It returns the replica chosen, nil for the primary.
func (rs *replicaSet) pick(ctx context.Context) (*replica, error) {
	if ports.PrimaryReads(ctx) {
		return nil, nil
	}
	need, _ := ports.ReadAfter(ctx)
	n := uint64(len(rs.reps))
	start := rs.next.Add(1)
	var best *replica
	var bestPos uint64
	for i := range n {
		r := rs.reps[(start+i)%n]
		pos, ok := r.usable(rs.cfg.MaxLag)
		if !ok {
			continue
		}
		if pos >= uint64(need) {
			return r, nil
		}
		if best == nil || pos > bestPos {
			best, bestPos = r, pos
		}
	}
	if need == 0 {
		return nil, nil
	}
	if uint64(need) > rs.primaryPos() {
		p, err := walPosition(ctx, rs.primary, `SELECT pg_current_wal_lsn()::text`)
		if err != nil {
			return nil, err
		}
		if uint64(need) > p {
			return nil, domain.Invalid("consistency", "%s is ahead of the primary's commit log (%s)", need, domain.Consistency(p))
		}
	}
	if best == nil {
		return nil, nil
	}
	// Poll the most advanced replica until it replays past need or the
	// wait runs out; then the primary serves.
	deadline := time.Now().Add(rs.cfg.Wait)
	for delay := time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 20*time.Millisecond) {
		t := time.NewTimer(min(delay, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		pos, err := walPosition(ctx, best.db, `SELECT COALESCE(pg_last_wal_replay_lsn()::text, '0/0')`)
		if err != nil {
			best.markDown(err)
			return nil, nil
		}
		if pos >= uint64(need) {
			best.mu.Lock()
			best.replay = max(best.replay, pos)
			best.mu.Unlock()
			return best, nil
		}
	}
	return nil, nil
}
