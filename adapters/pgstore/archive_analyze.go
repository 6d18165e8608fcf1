package pgstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// loadGrowth keeps a restore's tables analysed while they fill. A restore
// writes tables from empty far faster than autovacuum's statistics follow
// (it wakes once a minute). Without statistics the planner gives every
// equality the same default selectivity, so a guard's probe by key
// (memory_changes.memory_id, one row) looked no better than row-level
// security's org_id predicate (every row of the org): it ANDed the two
// indexes' bitmaps, every probe of a 1,000-row batch read the whole org, and
// a 100k-memory restore hit the statement timeout at its 41,000th history
// row. Each table is analysed whenever the rows restored into it since its
// last ANALYZE reach the rows restored before that (and at least
// analyzeFloor): about log2(n) ANALYZEs of a sampled, bounded cost for n
// rows restored into an empty store. Rows the table already held are not
// counted, so a restore into a full table analyses more often than it needs
// to, which costs little and steers nothing wrong.
//
// These growth ANALYZEs are coarse: they sample at a statistics target of
// growthTarget, not the default 100. Their job is to tell the planner that
// a guard's key is nearly unique and that the table has grown, which a
// 3,000-row sample does as well as a 30,000-row one; at the full target
// they were the largest share of a 100k restore after the inserts
// themselves (about 2 s of server time out of 12 s of import: 0.3-0.55 s
// per ANALYZE of a 64,000-row memories table, 20-30 ms coarse). SettleLoad
// then analyses every coarsely analysed table at the full target, so coarse
// statistics do not outlive the load (TestRestoreAnalysesCoarselyThenFully).
type loadGrowth struct {
	mu    sync.Mutex
	since map[string]int // rows restored since the table's last ANALYZE
	at    map[string]int // rows restored when it was last analysed
	// coarse counts the coarse ANALYZEs of each table since its last full
	// one (settle's); a table listed here is due for settle.
	coarse map[string]int
}

// analyzeFloor is the fewest new rows worth an ANALYZE.
const analyzeFloor = 2000

// growthTarget is the statistics target of the ANALYZEs taken while a
// table fills: ANALYZE samples 300 rows per unit of target.
const growthTarget = "10"

var insertTableRE = regexp.MustCompile(`^\s*INSERT INTO (\w+)`)

// grew records n rows restored by the statement ins and, when they are due,
// analyses its table through engram_analyze (migration 0291: ANALYZE needs
// the owner, which the runtime role is not).
func (g *loadGrowth) grew(ctx context.Context, s *Store, ins string, n int) {
	m := insertTableRE.FindStringSubmatch(ins)
	if m == nil || n <= 0 {
		return
	}
	table := m[1]
	g.mu.Lock()
	g.init()
	g.since[table] += n
	due := g.since[table] >= max(analyzeFloor, g.at[table])
	if due {
		g.at[table] += g.since[table]
		g.since[table] = 0
		// Counted before it runs: should it fail, settle's full
		// ANALYZE is due all the same.
		g.coarse[table]++
	}
	g.mu.Unlock()
	if due {
		// Best effort: statistics only steer plans; a failure here (a
		// cancelled context, a schema not yet migrated to 0291) leaves
		// them as they were. The target is set for this transaction only
		// (set_config's is_local), and engram_analyze, which sets only
		// its search_path, runs ANALYZE under it.
		_ = s.inTxWith(ctx, "'', true), set_config('default_statistics_target', '"+growthTarget+"', true)", false, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `SELECT engram_analyze($1)`, table)
			return err
		})
	}
}

func (g *loadGrowth) init() {
	if g.since == nil {
		g.since, g.at, g.coarse = map[string]int{}, map[string]int{}, map[string]int{}
	}
}

// wrote records n rows written into table outside Load (the text index's
// memory_search, which an import fills through its Changed callback):
// counted for settle, never analysed on the way, since it is also called
// by every single write of the running service.
func (g *loadGrowth) wrote(table string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	g.since[table] += n
}

// settleFloor is the fewest rows written since a table's last ANALYZE for
// SettleLoad to analyse it; autoanalyze's 50 would analyse after every
// small import, for a plan that a few hundred rows do not change.
const settleFloor = 1000

// settleTimeout bounds SettleLoad's background work: ANALYZE samples a
// bounded number of rows (300 × default_statistics_target) whatever the
// table's size, so this is far past what it takes.
const settleTimeout = 5 * time.Minute

// settle analyses each table that rows written since its last ANALYZE
// (by this store) grew by at least settleFloor and a tenth of the rows it
// held then (pg_class.reltuples): autoanalyze's rule (scale factor 0.1),
// applied now rather than within autovacuum's next minute; and, whatever
// its growth, each table a load analysed coarsely (grew), at the full
// target. The tail of a
// load is what it catches: Load analyses as a table doubles, so up to half
// of a restore's rows (4,000 of 12,000; 36,000 of 100,000) came after the
// last ANALYZE, and memory_search, written by the indexer, had none.
func (g *loadGrowth) settle(ctx context.Context, s *Store) error {
	g.mu.Lock()
	g.init()
	due, coarse := map[string]int{}, map[string]int{}
	for table, n := range g.since {
		if n >= settleFloor {
			due[table] = n
		}
	}
	for table, c := range g.coarse {
		due[table] = g.since[table]
		coarse[table] = c
	}
	g.mu.Unlock()
	var errs []error
	for _, table := range slices.Sorted(maps.Keys(due)) {
		var analysed bool
		err := s.inTx(ctx, "", false, func(tx *sqlx.Tx) error {
			if coarse[table] == 0 {
				var held float64
				// to_regclass resolves through the search path: this
				// schema's table. reltuples is -1 for a table never
				// analysed.
				if err := tx.GetContext(ctx, &held, `SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = to_regclass($1)`, table); err != nil {
					return err
				}
				if float64(due[table]) < held/10 {
					return nil
				}
			}
			analysed = true
			_, err := tx.ExecContext(ctx, `SELECT engram_analyze($1)`, table)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("analyse %s: %w", table, mapErr(err)))
			continue
		}
		if analysed {
			g.mu.Lock()
			g.since[table] -= due[table] // rows written meanwhile stay due
			g.at[table] += due[table]
			// Coarse ANALYZEs taken meanwhile stay due.
			if g.coarse[table] -= coarse[table]; g.coarse[table] <= 0 {
				delete(g.coarse, table)
			}
			g.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// SettleLoad implements ports.LoadSettler: once an import, restore or
// migrate-data has written its rows, it analyses in the background the
// tables it grew (settle), so that the first requests after it are not
// planned on the statistics of a smaller table or of none. A failure (a
// role without EXECUTE on engram_analyze, a schema before migration 0291)
// is logged and changes nothing else: autovacuum analyses them later.
func (s *Store) SettleLoad(ctx context.Context) {
	s.settling.Add(1)
	go func() {
		defer s.settling.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		defer cancel()
		start := time.Now()
		if err := s.loaded.settle(ctx, s); err != nil {
			s.opts.Log.WarnContext(ctx, "pgstore: analysing the tables a bulk load wrote failed; autovacuum will analyse them later",
				"error", err, "took_ms", time.Since(start).Milliseconds())
		}
	}()
}
