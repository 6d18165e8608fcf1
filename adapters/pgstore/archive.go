package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.ArchiveSource = (*Store)(nil)
	_ ports.ArchiveSink   = (*Store)(nil)
	_ ports.LoadPreparer  = (*Store)(nil)
)

// ArchiveSnapshot runs fn in one REPEATABLE READ, READ ONLY transaction: its
// snapshot is taken by the first statement and every table of every org is
// read at that instant. The statement timeout is off, since one export scan
// may take minutes; the org is switched per Scan with set_config, which row-
// level security reads.
func (s *Store) ArchiveSnapshot(ctx context.Context, fn func(ports.ArchiveSnapshot) error) error {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("pgstore: snapshot: %w", mapErr(err))
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT set_config('role', `+pq.QuoteLiteral(s.opts.Role)+`, true),
		set_config('statement_timeout', '0', true), set_config('engram.org_id', '', true)`); err != nil {
		return fmt.Errorf("pgstore: snapshot: %w", mapErr(err))
	}
	var orgs []string
	if err := tx.SelectContext(ctx, &orgs, `SELECT org_id FROM memory_orgs ORDER BY org_id COLLATE "C"`); err != nil {
		return fmt.Errorf("pgstore: snapshot: list orgs: %w", mapErr(err))
	}
	return fn(&pgSnapshot{tx: tx, orgs: orgs, s: s})
}

type pgSnapshot struct {
	tx   *sqlx.Tx
	orgs []string
	s    *Store
}

// Scan implements ports.ArchiveSnapshot, one org at a time.
func (sn *pgSnapshot) Scan(ctx context.Context, t ports.ArchiveTable, scope ports.ArchiveScope, fn func(ports.ArchiveRow) error) error {
	q, ok := archiveTables[t.Name]
	if !ok {
		return fmt.Errorf("pgstore: no archived table %q: %w", t.Name, domain.ErrInvalid)
	}
	orgs := sn.orgs
	if scope.Org != "" {
		orgs = []string{string(scope.Org)}
	}
	var since any
	if !scope.Since.IsZero() {
		since = scope.Since.UTC()
	}
	var has map[string]bool
	if len(q.later) > 0 {
		var cols []string
		if err := sn.tx.SelectContext(ctx, &cols, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`, t.Name); err != nil {
			return fmt.Errorf("pgstore: scan %s: columns: %w", t.Name, mapErr(err))
		}
		has = make(map[string]bool, len(cols))
		for _, c := range cols {
			has[c] = true
		}
	}
	for _, org := range orgs {
		if _, err := sn.tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true)`, org); err != nil {
			return fmt.Errorf("pgstore: scan %s: %w", t.Name, mapErr(err))
		}
		each := fn
		if scope.Open {
			open, err := sn.opener(ctx, org, scope.User)
			if err != nil {
				return fmt.Errorf("pgstore: scan %s: %w", t.Name, err)
			}
			each = func(r ports.ArchiveRow) error {
				r, err := open.Open(ctx, t, r)
				if err != nil {
					return fmt.Errorf("pgstore: scan %s: %w", t.Name, err)
				}
				return fn(r)
			}
		}
		if err := scanRows(ctx, sn.tx, q.selectFor(has), t, []any{org, string(scope.User), since}, each); err != nil {
			return err
		}
	}
	return nil
}

// opener opens the sealed values of org's rows (of user, or of every user)
// for an export with ArchiveScope.Open. The wrapped keys are read before
// the scan: one connection cannot run a query while another's rows are
// open, and the scan streams.
func (sn *pgSnapshot) opener(ctx context.Context, org string, user domain.UserID) (*ports.RowOpener, error) {
	if sn.s.keys.w == nil {
		return ports.NewRowOpener(func(context.Context, domain.Tenant) (*ports.DataKey, error) { return nil, errNoKEK }), nil
	}
	var held []struct {
		User    string `db:"user_id"`
		KEK     string `db:"kek_id"`
		Wrapped []byte `db:"wrapped"`
	}
	if err := sn.tx.SelectContext(ctx, &held, `SELECT user_id, kek_id, wrapped FROM data_keys WHERE org_id = $1 AND ($2 = '' OR user_id = $2)`, org, string(user)); err != nil {
		return nil, mapErr(err)
	}
	wrapped := map[domain.Tenant]ports.WrappedKey{}
	for _, h := range held {
		tn := domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(h.User)}
		wrapped[tn] = ports.WrappedKey{OrgID: tn.OrgID, UserID: tn.UserID, KEKID: h.KEK, Wrapped: h.Wrapped}
	}
	return ports.NewRowOpener(func(ctx context.Context, tn domain.Tenant) (*ports.DataKey, error) {
		k, ok := wrapped[tn]
		if !ok {
			return nil, nil
		}
		return ports.OpenDataKey(ctx, sn.s.keys.w, tn, k.KEKID, k.Wrapped)
	}), nil
}

func scanRows(ctx context.Context, tx *sqlx.Tx, query string, t ports.ArchiveTable, args []any, fn func(ports.ArchiveRow) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("pgstore: scan %s: %w", t.Name, mapErr(err))
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
			return fmt.Errorf("pgstore: scan %s: %w", t.Name, mapErr(err))
		}
		row, err := fromPostgres(t, raw)
		if err != nil {
			return fmt.Errorf("pgstore: scan %s: %w", t.Name, err)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: scan %s: %w", t.Name, mapErr(err))
	}
	return nil
}

// fromPostgres turns lib/pq's values (string, []byte, int64, bool,
// time.Time, nil) into the archive's portable kinds.
func fromPostgres(t ports.ArchiveTable, raw []any) (ports.ArchiveRow, error) {
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
			vals[i] = pgString(v)
		case ports.ColTime:
			tm, _ := v.(time.Time)
			vals[i] = tm.UTC().Truncate(time.Microsecond)
		case ports.ColJSON:
			j, err := ports.CanonicalJSON([]byte(pgString(v)))
			if err != nil {
				return ports.ArchiveRow{}, fmt.Errorf("column %s: %w", c.Name, err)
			}
			vals[i] = j
		case ports.ColInt:
			vals[i], _ = v.(int64)
		case ports.ColBool:
			vals[i], _ = v.(bool)
		}
	}
	row := ports.ArchiveRow{Values: vals}
	if x := raw[len(t.Columns)]; x != nil {
		j, err := ports.CanonicalJSON([]byte(pgString(x)))
		if err != nil {
			return ports.ArchiveRow{}, fmt.Errorf("archive_extra: %w", err)
		}
		row.Extra = j
	}
	return row, nil
}

func pgString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// Load implements ports.ArchiveSink: one transaction for the batch, written
// with one statement per org and table (archive_bulk.go). When PostgreSQL
// refuses the batch for a row's content, the batch is run again row by row,
// in a transaction of its own, to name the row at fault.
func (s *Store) Load(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow, opts ports.LoadOptions) (ports.LoadResult, error) {
	p, err := s.PrepareLoad(ctx, t, rows)
	if err != nil {
		return ports.LoadResult{}, err
	}
	return s.LoadPrepared(ctx, p, opts)
}

// preparedLoad is a batch opened and encoded for loadBulk, ahead of its
// transaction.
type preparedLoad struct {
	t        ports.ArchiveTable
	q        archiveSQL
	rows     []ports.ArchiveRow // opened; what loadRows replays
	shredded int
	runs     []bulkRun
}

// PrepareLoad implements ports.LoadPreparer: it opens the batch's sealed
// values and encodes its rows as loadBulk's array arguments. Encoding is
// about 5 ms of CPU per 1,000 rows, during which the server, in Load,
// waited for the statement; an import does it for the next batch while
// this one loads.
func (s *Store) PrepareLoad(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow) (ports.PreparedLoad, error) {
	q, ok := archiveTables[t.Name]
	if !ok {
		return nil, fmt.Errorf("pgstore: no archived table %q: %w", t.Name, domain.ErrInvalid)
	}
	rows, shredded, err := s.openArchived(ctx, t, rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: load %s: %w", t.Name, mapErr(err))
	}
	return &preparedLoad{t: t, q: q, rows: rows, shredded: shredded, runs: bulkRuns(t, rows, q.hashed)}, nil
}

// LoadPrepared implements ports.LoadPreparer: Load's transaction.
func (s *Store) LoadPrepared(ctx context.Context, batch ports.PreparedLoad, opts ports.LoadOptions) (ports.LoadResult, error) {
	p, ok := batch.(*preparedLoad)
	if !ok {
		return ports.LoadResult{}, fmt.Errorf("pgstore: load: a batch prepared elsewhere (%T): %w", batch, domain.ErrInvalid)
	}
	res, err := s.load(ctx, p, opts)
	if err == nil && !opts.DryRun {
		s.loaded.grew(ctx, s, p.q.ins, res.Inserted+res.Updated)
	}
	res.Skipped += p.shredded
	return res, err
}

func (s *Store) load(ctx context.Context, p *preparedLoad, opts ports.LoadOptions) (ports.LoadResult, error) {
	t, q, rows := p.t, p.q, p.rows
	if len(rows) == 0 {
		return ports.LoadResult{}, nil
	}
	first, _ := rows[0].Values[t.Col("org_id")].(string)
	var res ports.LoadResult
	errDryRun := errors.New("dry run")
	err := s.inTx(ctx, domain.OrgID(first), false, func(tx *sqlx.Tx) error {
		var err error
		if res, err = loadBulk(ctx, tx, t, p.runs, opts.Overwrite); err != nil {
			return err
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return res, nil
	}
	if err != nil && errors.Is(loadErr(err), domain.ErrInvalid) {
		res, err = s.loadRows(ctx, t, q, rows, opts, first)
		if err == nil {
			return res, nil
		}
	}
	if err != nil {
		return ports.LoadResult{}, fmt.Errorf("pgstore: load %s: %w", t.Name, loadErr(err))
	}
	return res, nil
}

// loadRows is Load one statement per row: slow, but an error names its row.
func (s *Store) loadRows(ctx context.Context, t ports.ArchiveTable, q archiveSQL, rows []ports.ArchiveRow, opts ports.LoadOptions, first string) (ports.LoadResult, error) {
	orgCol := t.Col("org_id")
	var res ports.LoadResult
	errDryRun := errors.New("dry run")
	err := s.inTx(ctx, domain.OrgID(first), false, func(tx *sqlx.Tx) error {
		res = ports.LoadResult{}
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
		org := first
		for i, r := range rows {
			if o, _ := r.Values[orgCol].(string); o != org {
				if _, err := tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true)`, o); err != nil {
					return err
				}
				org = o
			}
			args := toPostgres(t, r, q.hashed)
			if upd != nil {
				n, err := rowsAffected(upd.ExecContext(ctx, args...))
				if err != nil {
					return &ports.RowError{Index: i, Err: err}
				}
				if n > 0 {
					res.Updated++
					continue
				}
			}
			n, err := rowsAffected(ins.ExecContext(ctx, args...))
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
		return nil
	})
	if errors.Is(err, errDryRun) {
		return res, nil
	}
	return res, err
}

func rowsAffected(r sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// loadErr maps a row PostgreSQL refuses (integrity constraint violations,
// class 23, and malformed values, class 22) to domain.ErrInvalid.
func loadErr(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && (pqErr.Code.Class() == "23" || pqErr.Code.Class() == "22") {
		return fmt.Errorf("%w: %w", domain.ErrInvalid, err)
	}
	return mapErr(err)
}

// toPostgres turns portable values into arguments in archiveSQL's order.
func toPostgres(t ports.ArchiveTable, r ports.ArchiveRow, hashed bool) []any {
	args := make([]any, 0, len(t.Columns)+2)
	for i, c := range t.Columns {
		v := r.Values[i]
		switch {
		case v == nil:
			args = append(args, nil)
		case c.Kind == ports.ColJSON:
			args = append(args, jsonArg(v))
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
		args = append(args, archivedHash(t, r))
	}
	return args
}

// archivedHash is an archived memory's content hash: keyed when a sink
// opened its sealed text (contentHash), else of the text as archived.
func archivedHash(t ports.ArchiveTable, r ports.ArchiveRow) string {
	if r.SealedHash != "" {
		return r.SealedHash
	}
	text, _ := r.Values[t.Col("text")].(string)
	return domain.ContentHash(text)
}

// openArchived is ports.OpenArchived with this store's data keys, one
// read transaction per subject and batch. Without a key-encryption key
// sealed values are loaded as they are, unopened.
func (s *Store) openArchived(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow) ([]ports.ArchiveRow, int, error) {
	if s.keys.w == nil {
		return rows, 0, nil
	}
	return ports.OpenArchived(ctx, t, rows, func(ctx context.Context, tn domain.Tenant) (*ports.DataKey, error) {
		var dk *ports.DataKey
		err := s.inTx(ctx, tn.OrgID, true, func(tx *sqlx.Tx) error {
			var err error
			dk, err = s.findKey(ctx, tx, tn)
			return err
		})
		return dk, err
	})
}

func jsonArg(v any) string {
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
