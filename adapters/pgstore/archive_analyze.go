package pgstore

import (
	"context"
	"regexp"
	"sync"

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
type loadGrowth struct {
	mu    sync.Mutex
	since map[string]int // rows restored since the table's last ANALYZE
	at    map[string]int // rows restored when it was last analysed
}

// analyzeFloor is the fewest new rows worth an ANALYZE.
const analyzeFloor = 2000

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
	if g.since == nil {
		g.since, g.at = map[string]int{}, map[string]int{}
	}
	g.since[table] += n
	due := g.since[table] >= max(analyzeFloor, g.at[table])
	if due {
		g.at[table] += g.since[table]
		g.since[table] = 0
	}
	g.mu.Unlock()
	if due {
		// Best effort: statistics only steer plans; a failure here (a
		// cancelled context, a schema not yet migrated to 0291) leaves
		// them as they were.
		_ = s.inTx(ctx, "", false, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `SELECT engram_analyze($1)`, table)
			return err
		})
	}
}
