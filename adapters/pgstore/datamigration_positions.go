package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.MigrationCheckpoint = (*Store)(nil)
	_ ports.ArchiveSeeker       = (*pgSnapshot)(nil)
)

// LoadAt implements ports.MigrationCheckpoint: Load's bulk statement and
// the position in one transaction. A batch PostgreSQL refuses goes through
// Load (which names the row at fault) and the position follows in a
// transaction of its own, as the port allows.
func (s *Store) LoadAt(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow, opts ports.LoadOptions, pos ports.CopyPosition) (ports.LoadResult, error) {
	q, ok := archiveTables[t.Name]
	if !ok {
		return ports.LoadResult{}, fmt.Errorf("pgstore: no archived table %q: %w", t.Name, domain.ErrInvalid)
	}
	pos.Table = t.Name
	if opts.DryRun {
		return s.Load(ctx, t, rows, opts)
	}
	opened, shredded, err := s.openArchived(ctx, t, rows)
	if err != nil {
		return ports.LoadResult{}, fmt.Errorf("pgstore: load %s: %w", t.Name, mapErr(err))
	}
	var first string
	if len(opened) > 0 {
		first, _ = opened[0].Values[t.Col("org_id")].(string)
	}
	var res ports.LoadResult
	err = s.inTx(ctx, domain.OrgID(first), false, func(tx *sqlx.Tx) error {
		if len(opened) > 0 {
			var err error
			if res, err = loadBulk(ctx, tx, t, bulkRuns(t, opened, q.hashed), opts.Overwrite); err != nil {
				return err
			}
		}
		return savePosition(ctx, tx, pos)
	})
	if err == nil {
		s.loaded.grew(ctx, s, q.ins, res.Inserted+res.Updated)
		res.Skipped += shredded
		return res, nil
	}
	if !errors.Is(loadErr(err), domain.ErrInvalid) {
		return ports.LoadResult{}, fmt.Errorf("pgstore: load %s: %w", t.Name, loadErr(err))
	}
	if res, err = s.Load(ctx, t, rows, opts); err != nil {
		return res, err
	}
	if err := s.inTx(ctx, "", false, func(tx *sqlx.Tx) error { return savePosition(ctx, tx, pos) }); err != nil {
		return res, fmt.Errorf("pgstore: record copy position of %s: %w", t.Name, mapErr(err))
	}
	return res, nil
}

func savePosition(ctx context.Context, tx *sqlx.Tx, pos ports.CopyPosition) error {
	key, _ := json.Marshal(pos.Key)
	_, err := tx.ExecContext(ctx, `INSERT INTO data_migration_positions (table_name, org_id, key_values, dup, copied)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (table_name) DO UPDATE SET org_id = EXCLUDED.org_id,
		key_values = EXCLUDED.key_values, dup = EXCLUDED.dup, copied = EXCLUDED.copied`,
		pos.Table, pos.Org, string(key), pos.Dup, pos.Copied)
	return err
}

// CopyPositions implements ports.MigrationCheckpoint.
func (s *Store) CopyPositions(ctx context.Context) (map[string]ports.CopyPosition, error) {
	var rows []struct {
		Table  string `db:"table_name"`
		Org    string `db:"org_id"`
		Key    string `db:"key_values"`
		Dup    int64  `db:"dup"`
		Copied int64  `db:"copied"`
	}
	err := s.inTx(ctx, "", true, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT table_name, org_id, key_values, dup, copied FROM data_migration_positions`)
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: copy positions: %w", mapErr(err))
	}
	out := map[string]ports.CopyPosition{}
	for _, r := range rows {
		p := ports.CopyPosition{Table: r.Table, Org: r.Org, Dup: r.Dup, Copied: r.Copied}
		if err := json.Unmarshal([]byte(r.Key), &p.Key); err != nil {
			return nil, fmt.Errorf("pgstore: copy position of %s: %w", r.Table, err)
		}
		out[r.Table] = p
	}
	return out, nil
}

// seekKeys are the SQL of each archived table's key columns (in
// ports.ArchiveTable.Key's order) and of their parameters: uuids compare
// as uuids (their order is their lower-case text's), text in byte order,
// as the selects order them.
var seekKeys = map[string][]string{
	"memories":               {"id", "::uuid"},
	"memory_history":         {"memory_id", "::uuid"},
	"apps":                   {`user_id COLLATE "C"`, `::text COLLATE "C"`, `id COLLATE "C"`, `::text COLLATE "C"`},
	"memory_access":          {`user_id COLLATE "C"`, `::text COLLATE "C"`, `app_id COLLATE "C"`, `::text COLLATE "C"`, "memory_id", "::uuid"},
	"query_logs":             {"id", "::uuid"},
	"feedback_events":        {"id", "::uuid"},
	"experiments":            {"id", "::uuid"},
	"experiment_history":     {"experiment_id", "::uuid"},
	"experiment_assignments": {"experiment_id", "::uuid", `user_id COLLATE "C"`, `::text COLLATE "C"`},
}

// ScanAfter implements ports.ArchiveSeeker: orgs before the position's are
// not read, the position's org is read from its key on ("(key...) >=
// (...)", which the key's index serves), and later orgs whole. The rows of
// the position's own key already copied are dropped by ports.SkipThrough.
func (sn *pgSnapshot) ScanAfter(ctx context.Context, t ports.ArchiveTable, after ports.CopyPosition, fn func(ports.ArchiveRow) error) error {
	q, ok := archiveTables[t.Name]
	keys := seekKeys[t.Name]
	if !ok || len(keys) != 2*len(t.Key) {
		return fmt.Errorf("pgstore: no archived table %q: %w", t.Name, domain.ErrInvalid)
	}
	if len(after.Key) != len(t.Key) {
		return fmt.Errorf("pgstore: position of %s has %d key values, want %d: %w", t.Name, len(after.Key), len(t.Key), domain.ErrInvalid)
	}
	var cols, params []string
	for i := 0; i < len(keys); i += 2 {
		cols = append(cols, keys[i])
		params = append(params, fmt.Sprintf("$%d%s", 4+i/2, keys[i+1]))
	}
	i := strings.LastIndex(q.sel, "ORDER BY")
	if i < 0 {
		return fmt.Errorf("pgstore: scan %s: select without ORDER BY: %w", t.Name, domain.ErrInvalid)
	}
	seek := q.sel[:i] + "AND (" + strings.Join(cols, ", ") + ") >= (" + strings.Join(params, ", ") + ") " + q.sel[i:]
	skip := ports.SkipThrough(t, after, fn)
	for _, org := range sn.orgs {
		if org < after.Org {
			continue // byte order, as the orgs are listed (COLLATE "C")
		}
		if _, err := sn.tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true)`, org); err != nil {
			return fmt.Errorf("pgstore: scan %s: %w", t.Name, mapErr(err))
		}
		sel, args := q.sel, []any{org, "", nil}
		if org == after.Org {
			sel = seek
			for _, k := range after.Key {
				args = append(args, k)
			}
		}
		if err := scanRows(ctx, sn.tx, sel, t, args, skip); err != nil {
			return err
		}
	}
	return nil
}
