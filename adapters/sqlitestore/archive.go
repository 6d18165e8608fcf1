package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"modernc.org/sqlite"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.ArchiveSource = (*Store)(nil)
	_ ports.ArchiveSink   = (*Store)(nil)
)

// ArchiveSnapshot runs fn inside one read transaction on a read connection.
// In WAL mode a read transaction's snapshot is fixed by its first read, so
// the transaction reads once before fn runs: every Scan then sees the same
// instant, whatever the writer commits meanwhile.
func (s *Store) ArchiveSnapshot(ctx context.Context, fn func(ports.ArchiveSnapshot) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlitestore: snapshot: %w", mapErr(err))
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM memories LIMIT 1)`).Scan(&n); err != nil {
		return fmt.Errorf("sqlitestore: snapshot: %w", mapErr(err))
	}
	return fn(snapshot{tx: tx, s: s})
}

type snapshot struct {
	tx *sql.Tx
	s  *Store
}

// Scan implements ports.ArchiveSnapshot.
func (sn snapshot) Scan(ctx context.Context, t ports.ArchiveTable, scope ports.ArchiveScope, fn func(ports.ArchiveRow) error) error {
	q, ok := archiveTables[t.Name]
	if !ok {
		return fmt.Errorf("sqlitestore: no archived table %q: %w", t.Name, domain.ErrInvalid)
	}
	since := int64(math.MinInt64)
	if !scope.Since.IsZero() {
		since = scope.Since.UnixNano()
	}
	var open *ports.RowOpener
	if scope.Open {
		open = ports.NewRowOpener(func(ctx context.Context, tn domain.Tenant) (*ports.DataKey, error) {
			if sn.s.keys.w == nil {
				return nil, errNoKEK
			}
			return sn.s.findKey(ctx, sn.tx, tn)
		})
	}
	return sn.scan(ctx, t, q.sel, []any{string(scope.Org), string(scope.User), since}, open, fn)
}

// scan runs one of t's selects and calls fn for every row, opened by open
// when set.
func (sn snapshot) scan(ctx context.Context, t ports.ArchiveTable, sel string, args []any, open *ports.RowOpener, fn func(ports.ArchiveRow) error) error {
	rows, err := sn.tx.QueryContext(ctx, sel, args...)
	if err != nil {
		return fmt.Errorf("sqlitestore: scan %s: %w", t.Name, mapErr(err))
	}
	defer rows.Close()
	n := len(t.Columns)
	raw := make([]any, n+1)
	ptrs := make([]any, n+1)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("sqlitestore: scan %s: %w", t.Name, mapErr(err))
		}
		row, err := fromSQLite(t, raw)
		if err != nil {
			return fmt.Errorf("sqlitestore: scan %s: %w", t.Name, err)
		}
		if open != nil {
			if row, err = open.Open(ctx, t, row); err != nil {
				return fmt.Errorf("sqlitestore: scan %s: %w", t.Name, err)
			}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlitestore: scan %s: %w", t.Name, mapErr(err))
	}
	return nil
}

// fromSQLite turns scanned values (int64, float64, string, []byte, nil) into
// the archive's portable kinds; raw[len(t.Columns)] is archive_extra.
func fromSQLite(t ports.ArchiveTable, raw []any) (ports.ArchiveRow, error) {
	vals := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		v := raw[i]
		if v == nil {
			if !c.Null {
				return ports.ArchiveRow{}, fmt.Errorf("column %s is NULL", c.Name)
			}
			continue
		}
		switch c.Kind {
		case ports.ColText:
			vals[i] = asString(v)
		case ports.ColTime:
			n, _ := v.(int64)
			vals[i] = fromNanos(n).Truncate(time.Microsecond)
		case ports.ColJSON:
			j, err := ports.CanonicalJSON([]byte(asString(v)))
			if err != nil {
				return ports.ArchiveRow{}, fmt.Errorf("column %s: %w", c.Name, err)
			}
			vals[i] = j
		case ports.ColInt:
			vals[i], _ = v.(int64)
		case ports.ColBool:
			n, _ := v.(int64)
			vals[i] = n != 0
		}
	}
	row := ports.ArchiveRow{Values: vals}
	if x := raw[len(t.Columns)]; x != nil {
		row.Extra = []byte(asString(x))
	}
	return row, nil
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// Load implements ports.ArchiveSink in one write transaction.
func (s *Store) Load(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow, opts ports.LoadOptions) (ports.LoadResult, error) {
	q, ok := archiveTables[t.Name]
	if !ok {
		return ports.LoadResult{}, fmt.Errorf("sqlitestore: no archived table %q: %w", t.Name, domain.ErrInvalid)
	}
	rows, shredded, err := s.openArchived(ctx, t, rows)
	if err != nil {
		return ports.LoadResult{}, fmt.Errorf("sqlitestore: load %s: %w", t.Name, err)
	}
	res, err := s.load(ctx, t, q, rows, opts, nil)
	res.Skipped += shredded
	return res, err
}

// load writes rows in one transaction and, when pos is set (LoadAt),
// records it in the same one.
func (s *Store) load(ctx context.Context, t ports.ArchiveTable, q archiveSQL, rows []ports.ArchiveRow, opts ports.LoadOptions, pos *ports.CopyPosition) (ports.LoadResult, error) {
	var res ports.LoadResult
	errDryRun := errors.New("dry run")
	// Skip mode (and append-only tables) write in bulk; overwrite's
	// update-then-insert stays row by row.
	var bulk []*sql.Stmt
	if !opts.Overwrite || q.upd == "" {
		n := len(t.Columns) + 1
		if q.hashed {
			n++
		}
		for _, size := range chunks(len(rows)) {
			st, err := s.bulk.get(ctx, s.w, t.Name, q, n, size)
			if err != nil {
				return ports.LoadResult{}, fmt.Errorf("sqlitestore: load %s: %w", t.Name, mapErr(err))
			}
			bulk = append(bulk, st)
		}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res = ports.LoadResult{}
		if bulk != nil {
			var err error
			if res, err = loadBulk(ctx, tx, t, q, rows, bulk); err != nil {
				return err
			}
			if opts.DryRun {
				return errDryRun
			}
			return savePosition(ctx, tx, pos)
		}
		ins, err := tx.PrepareContext(ctx, q.ins)
		if err != nil {
			return err
		}
		defer ins.Close()
		var upd *sql.Stmt
		if opts.Overwrite && q.upd != "" {
			if upd, err = tx.PrepareContext(ctx, q.upd); err != nil {
				return err
			}
			defer upd.Close()
		}
		for i, r := range rows {
			args := toSQLite(t, r, q.hashed)
			if upd != nil {
				n, err := affected(upd.ExecContext(ctx, args...))
				if err != nil {
					return &ports.RowError{Index: i, Err: err}
				}
				if n > 0 {
					res.Updated++
					continue
				}
			}
			n, err := affected(ins.ExecContext(ctx, args...))
			if err != nil {
				return &ports.RowError{Index: i, Err: err}
			}
			if n > 0 {
				res.Inserted++
			} else {
				res.Skipped++
			}
		}
		if opts.DryRun {
			return errDryRun
		}
		return savePosition(ctx, tx, pos)
	})
	if errors.Is(err, errDryRun) {
		return res, nil
	}
	if err != nil {
		return ports.LoadResult{}, fmt.Errorf("sqlitestore: load %s: %w", t.Name, loadErr(err))
	}
	return res, nil
}

// openArchived is ports.OpenArchived with this store's data keys. Without a
// key-encryption key (a scratch store verifying a backup) sealed values are
// loaded as they are, unopened.
func (s *Store) openArchived(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow) ([]ports.ArchiveRow, int, error) {
	if s.keys.w == nil {
		return rows, 0, nil
	}
	return ports.OpenArchived(ctx, t, rows, func(ctx context.Context, tn domain.Tenant) (*ports.DataKey, error) {
		return s.findKey(ctx, s.r, tn)
	})
}

func jsonText(v any) string {
	switch j := v.(type) {
	case json.RawMessage:
		return string(j)
	case []byte:
		return string(j)
	case string:
		return j
	}
	return fmt.Sprint(v)
}

func affected(r sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// loadErr maps a refused row (CHECK, NOT NULL, foreign key, unique) to
// domain.ErrInvalid: it is the archive's content, not the backend, at fault.
func loadErr(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == 19 { // SQLITE_CONSTRAINT and its extended codes
		return fmt.Errorf("%w: %w", domain.ErrInvalid, err)
	}
	return mapErr(err)
}

// toSQLite turns portable values into this store's arguments, in the
// order archiveSQL's statements number them.
func toSQLite(t ports.ArchiveTable, r ports.ArchiveRow, hashed bool) []any {
	args := make([]any, 0, len(t.Columns)+2)
	for i, c := range t.Columns {
		v := r.Values[i]
		if v == nil {
			args = append(args, nil)
			continue
		}
		switch c.Kind {
		case ports.ColTime:
			tm, _ := v.(time.Time)
			args = append(args, tm.UnixNano())
		case ports.ColJSON:
			args = append(args, jsonText(v))
		case ports.ColBool:
			if b, _ := v.(bool); b {
				args = append(args, int64(1))
			} else {
				args = append(args, int64(0))
			}
		default:
			args = append(args, v)
		}
	}
	if r.Extra != nil {
		args = append(args, string(r.Extra))
	} else {
		args = append(args, nil)
	}
	if hashed {
		hash := r.SealedHash
		if hash == "" {
			text, _ := r.Values[t.Col("text")].(string)
			hash = domain.ContentHash(text)
		}
		args = append(args, hash)
	}
	return args
}
