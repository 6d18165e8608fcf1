package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/engram-memory/engram/ports"
)

// Tallies of a bulk load. memory_tallies_add (migration 0301) upserts three
// or more memory_tallies rows for every memory inserted, a sixth of an
// archive import's CPU. A bulk load of memories switches it off for its own
// insert statements (a row in memory_tallies_deferred, migration 0361,
// which the trigger's WHEN reads), learns which rows its statements
// inserted (RETURNING id), counts them in Go exactly as the trigger would
// and applies one upsert per tally row, then deletes the switch, all in the
// load's write transaction: no other transaction ever sees the switch on.

const (
	deferTallies   = `INSERT INTO memory_tallies_deferred (one) VALUES (1)`
	restoreTallies = `DELETE FROM memory_tallies_deferred`
	addTally       = `INSERT INTO memory_tallies (org_id, user_id, dim, label, state, n) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = n + excluded.n`
)

type tallyKey struct{ org, user, dim, label, state string }

// tallies counts inserted memories by the keys memory_tallies_add writes.
type tallies map[tallyKey]int64

// add counts one inserted memory row as the trigger would: nothing for an
// erased one; its app, its UTC day of creation and each of its categories,
// under its state.
func (c tallies) add(t ports.ArchiveTable, r ports.ArchiveRow) error {
	if erased, _ := r.Values[t.Col("erased")].(bool); erased {
		return nil
	}
	str := func(name string) string { s, _ := r.Values[t.Col(name)].(string); return s }
	org, user, state := str("org_id"), str("user_id"), str("state")
	created, _ := r.Values[t.Col("created_at")].(time.Time)
	// strftime('%Y-%m-%d', created_at / 1000000000, 'unixepoch'): the
	// stored nanoseconds divided towards zero, as SQLite's integer division.
	day := time.Unix(created.UnixNano()/1e9, 0).UTC().Format("2006-01-02")
	var cats []string
	if err := json.Unmarshal([]byte(jsonText(r.Values[t.Col("categories")])), &cats); err != nil {
		return fmt.Errorf("categories: %w", err)
	}
	c[tallyKey{org, user, "app", str("app_id"), state}]++
	c[tallyKey{org, user, "day", day, state}]++
	for _, cat := range cats {
		c[tallyKey{org, user, "category", cat, state}]++
	}
	return nil
}

// apply writes the counts into memory_tallies.
func (c tallies) apply(ctx context.Context, tx *sql.Tx) error {
	if len(c) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, addTally)
	if err != nil {
		return err
	}
	defer st.Close()
	for k, n := range c {
		if _, err := st.ExecContext(ctx, k.org, k.user, k.dim, k.label, k.state, n); err != nil {
			return err
		}
	}
	return nil
}
