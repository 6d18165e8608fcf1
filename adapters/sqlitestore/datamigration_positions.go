package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.MigrationCheckpoint = (*Store)(nil)
	_ ports.ArchiveSeeker       = snapshot{}
)

// LoadAt implements ports.MigrationCheckpoint: Load with the position
// written in the batch's write transaction.
func (s *Store) LoadAt(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow, opts ports.LoadOptions, pos ports.CopyPosition) (ports.LoadResult, error) {
	q, ok := archiveTables[t.Name]
	if !ok {
		return ports.LoadResult{}, fmt.Errorf("sqlitestore: no archived table %q: %w", t.Name, domain.ErrInvalid)
	}
	rows, shredded, err := s.openArchived(ctx, t, rows)
	if err != nil {
		return ports.LoadResult{}, fmt.Errorf("sqlitestore: load %s: %w", t.Name, err)
	}
	pos.Table = t.Name
	res, err := s.load(ctx, t, q, rows, opts, &pos)
	res.Skipped += shredded
	return res, err
}

// savePosition records pos (nil: none) in tx.
func savePosition(ctx context.Context, tx *sql.Tx, pos *ports.CopyPosition) error {
	if pos == nil {
		return nil
	}
	key, _ := json.Marshal(pos.Key)
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO data_migration_positions (table_name, org_id, key_values, dup, copied)
		VALUES (?, ?, ?, ?, ?)`, pos.Table, pos.Org, string(key), pos.Dup, pos.Copied)
	return err
}

// CopyPositions implements ports.MigrationCheckpoint.
func (s *Store) CopyPositions(ctx context.Context) (map[string]ports.CopyPosition, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT table_name, org_id, key_values, dup, copied FROM data_migration_positions`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: copy positions: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[string]ports.CopyPosition{}
	for rows.Next() {
		var p ports.CopyPosition
		var key string
		if err := rows.Scan(&p.Table, &p.Org, &key, &p.Dup, &p.Copied); err != nil {
			return nil, fmt.Errorf("sqlitestore: copy positions: %w", mapErr(err))
		}
		if err := json.Unmarshal([]byte(key), &p.Key); err != nil {
			return nil, fmt.Errorf("sqlitestore: copy position of %s: %w", p.Table, err)
		}
		out[p.Table] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: copy positions: %w", mapErr(err))
	}
	return out, nil
}

// ScanAfter implements ports.ArchiveSeeker: the table's select with a row
// value condition, (org_id, key...) >= (the position's), which SQLite
// evaluates before a row is decoded (and with an index on those columns
// starts the scan there); the rows of the position's own key already
// copied are dropped by ports.SkipThrough.
func (sn snapshot) ScanAfter(ctx context.Context, t ports.ArchiveTable, after ports.CopyPosition, fn func(ports.ArchiveRow) error) error {
	q, ok := archiveTables[t.Name]
	if !ok {
		return fmt.Errorf("sqlitestore: no archived table %q: %w", t.Name, domain.ErrInvalid)
	}
	if len(after.Key) != len(t.Key) {
		return fmt.Errorf("sqlitestore: position of %s has %d key values, want %d: %w", t.Name, len(after.Key), len(t.Key), domain.ErrInvalid)
	}
	cols := append([]string{"org_id"}, t.Key...)
	params := make([]string, len(cols))
	args := []any{"", "", int64(math.MinInt64), after.Org}
	for i := range cols {
		params[i] = fmt.Sprintf("?%d", 4+i)
		if i > 0 {
			args = append(args, after.Key[i-1])
		}
	}
	sel, err := seekSelect(q.sel, "("+strings.Join(cols, ", ")+") >= ("+strings.Join(params, ", ")+")")
	if err != nil {
		return fmt.Errorf("sqlitestore: scan %s: %w", t.Name, err)
	}
	return sn.scan(ctx, t, sel, args, nil, ports.SkipThrough(t, after, fn))
}

// seekSelect adds cond to a select's WHERE, before its ORDER BY.
func seekSelect(sel, cond string) (string, error) {
	i := strings.LastIndex(sel, "ORDER BY")
	if i < 0 {
		return "", fmt.Errorf("select without ORDER BY: %w", domain.ErrInvalid)
	}
	return sel[:i] + "AND " + cond + " " + sel[i:], nil
}
