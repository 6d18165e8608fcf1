package pgstore

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/ports"
)

// Bulk loading. Load writes a batch with one statement per table and org
// (two in overwrite mode) instead of one per row: every argument travels as
// one text[] per column, unnest turns the arrays back into rows, and the
// per-row statement's own expressions and guards run over them. A round trip
// and a statement-level trigger (memory_orgs, the change feed's NOTIFY) per
// row were what held an import to a few hundred rows a second.
//
// The bulk statements are derived from archiveTables' per-row ones, which
// cast every parameter ($k::type): each $k::type becomes u.ck::type over the
// unnested arrays. So there is one definition of how a row is written and
// guarded, and the per-row statements stay for locating the row at fault
// when a batch fails.

// bulkSQL is a table's derived batch statements.
type bulkSQL struct {
	ins string // INSERT ... SELECT ... FROM <unnest> u WHERE <guard> ORDER BY u.ord [ON CONFLICT DO NOTHING]
	upd string // UPDATE ... FROM <unnest> u WHERE <match>; "" for append-only tables
}

var paramRE = regexp.MustCompile(`\$(\d+)::`)

// unnestFrom is the FROM item yielding one row per archived row: columns
// c1..cn, typed as the per-row statement casts its parameters (so that
// u.ck::type is no conversion and the guards' lookups can use an index:
// a text-to-uuid conversion on the probe side cannot), and ord, the row's
// position in the batch. dedup, when set, keeps the first of the rows equal
// in those columns: the per-row statement's NOT EXISTS guard would have
// skipped the later ones, which one statement's snapshot cannot see.
func unnestFrom(types []string, dedup []int) string {
	var arrays, cols []string
	for i, ty := range types {
		arrays = append(arrays, "$"+strconv.Itoa(i+1)+"::"+ty+"[]")
		cols = append(cols, "c"+strconv.Itoa(i+1))
	}
	src := "unnest(" + strings.Join(arrays, ", ") + ") WITH ORDINALITY AS u(" + strings.Join(cols, ", ") + ", ord)"
	if len(dedup) == 0 {
		return src
	}
	var key []string
	for _, k := range dedup {
		key = append(key, "c"+strconv.Itoa(k))
	}
	return "(SELECT *, row_number() OVER (PARTITION BY " + strings.Join(key, ", ") + " ORDER BY ord) AS dup FROM " +
		src + ") u"
}

var castRE = regexp.MustCompile(`\$(\d+)::([a-z]+)`)

// paramTypes reads the type of each of n parameters from the first cast
// of it in q's statements; one never cast stays text.
func paramTypes(q archiveSQL, n int) []string {
	types := make([]string, n)
	for _, m := range castRE.FindAllStringSubmatch(q.ins+" "+q.upd, -1) {
		k, _ := strconv.Atoi(m[1])
		if k >= 1 && k <= n && types[k-1] == "" {
			types[k-1] = m[2]
		}
	}
	for i := range types {
		if types[i] == "" {
			types[i] = "text"
		}
	}
	return types
}

// deriveBulk turns q's per-row statements into batch statements over n
// parameters (the table's columns, archive_extra and, for memories,
// content_hash).
func deriveBulk(q archiveSQL, n int) bulkSQL {
	types := paramTypes(q, n)
	from := unnestFrom(types, q.dedup)
	body := paramRE.ReplaceAllString(q.ins, "u.c$1::")
	// The first WHERE of an INSERT ... SELECT is its own (guards nest theirs
	// inside parentheses after it).
	w := strings.Index(body, "WHERE ")
	guard := body[w+len("WHERE "):]
	conflict := ""
	if i := strings.LastIndex(guard, "ON CONFLICT DO NOTHING"); i >= 0 {
		guard, conflict = guard[:i], " ON CONFLICT DO NOTHING"
	}
	if len(q.dedup) > 0 {
		guard = "u.dup = 1 AND (" + strings.TrimSpace(guard) + ")"
	}
	b := bulkSQL{ins: body[:w] + "FROM " + from + " WHERE " + strings.TrimSpace(guard) + " ORDER BY u.ord" + conflict}
	if q.upd != "" {
		upd := paramRE.ReplaceAllString(q.upd, "u.c$1::")
		w := strings.LastIndex(upd, "WHERE ")
		// Overwrite with two rows of one key in a batch: the later wins, as
		// row by row.
		last := "(SELECT DISTINCT ON (" + updKey(q.upd) + ") * FROM " + unnestFrom(types, nil) + " ORDER BY " + updKey(q.upd) + ", ord DESC) u"
		b.upd = upd[:w] + "FROM " + last + " " + upd[w:]
	}
	return b
}

var updKeyRE = regexp.MustCompile(`= \$(\d+)::`)

// updKey lists the columns an UPDATE's WHERE matches on (c1, c2, ...).
func updKey(upd string) string {
	w := upd[strings.LastIndex(upd, "WHERE "):]
	var key []string
	for _, m := range updKeyRE.FindAllStringSubmatch(w, -1) {
		key = append(key, "c"+m[1])
	}
	return strings.Join(key, ", ")
}

var bulkTables = func() map[string]bulkSQL {
	out := map[string]bulkSQL{}
	for name, q := range archiveTables {
		t, ok := ports.ArchiveTableNamed(name)
		if !ok {
			panic("pgstore: archiveTables names an unknown table " + name)
		}
		n := len(t.Columns) + 1
		if q.hashed {
			n++
		}
		out[name] = deriveBulk(q, n)
	}
	return out
}()

// nullTextArray is an array argument in text form (PostgreSQL parses the
// elements with the parameter's element type); nil elements are NULL.
type nullTextArray []*string

// literal renders the array literal: every element quoted, NULL unquoted.
func (a nullTextArray) literal() string {
	size := 2
	for _, p := range a {
		if p != nil {
			size += len(*p) + 3
		} else {
			size += 5
		}
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('{')
	for i, p := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if p == nil {
			b.WriteString("NULL")
			continue
		}
		b.WriteByte('"')
		s := *p
		for {
			j := strings.IndexAny(s, `"\`)
			if j < 0 {
				break
			}
			b.WriteString(s[:j])
			b.WriteByte('\\')
			b.WriteByte(s[j])
			s = s[j+1:]
		}
		b.WriteString(s)
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// bulkArgs turns rows into one array literal per parameter, in toPostgres'
// order, rendered now (lib/pq would render a driver.Valuer inside Exec,
// on the loading goroutine, while the server waits).
func bulkArgs(t ports.ArchiveTable, rows []ports.ArchiveRow, hashed bool) []any {
	n := len(t.Columns) + 1
	if hashed {
		n++
	}
	cols := make([]nullTextArray, n)
	for i := range cols {
		cols[i] = make(nullTextArray, len(rows))
	}
	for r, row := range rows {
		for i, c := range t.Columns {
			v := row.Values[i]
			if v == nil {
				continue
			}
			s := pgText(c, v)
			cols[i][r] = &s
		}
		if row.Extra != nil {
			s := string(row.Extra)
			cols[len(t.Columns)][r] = &s
		}
		if hashed {
			s := archivedHash(t, row)
			cols[n-1][r] = &s
		}
	}
	args := make([]any, n)
	for i := range cols {
		args[i] = cols[i].literal()
	}
	return args
}

// pgText is a portable value as PostgreSQL text input for its column's cast.
func pgText(c ports.ArchiveColumn, v any) string {
	switch c.Kind {
	case ports.ColTime:
		tm, _ := v.(time.Time)
		return tm.UTC().Format("2006-01-02T15:04:05.999999Z07:00")
	case ports.ColJSON:
		return jsonArg(v)
	case ports.ColInt:
		n, _ := v.(int64)
		return strconv.FormatInt(n, 10)
	case ports.ColBool:
		if b, _ := v.(bool); b {
			return "true"
		}
		return "false"
	}
	s, _ := v.(string)
	return s
}

// bulkRun is a run of a batch's rows of one org (rows come ordered by org,
// so a batch is one run or two), encoded as bulkArgs.
type bulkRun struct {
	org  string
	n    int
	args []any
}

// bulkRuns splits rows into runs of one org and encodes each.
func bulkRuns(t ports.ArchiveTable, rows []ports.ArchiveRow, hashed bool) []bulkRun {
	orgCol := t.Col("org_id")
	var runs []bulkRun
	for start := 0; start < len(rows); {
		org, _ := rows[start].Values[orgCol].(string)
		end := start + 1
		for end < len(rows) {
			if o, _ := rows[end].Values[orgCol].(string); o != org {
				break
			}
			end++
		}
		runs = append(runs, bulkRun{org: org, n: end - start, args: bulkArgs(t, rows[start:end], hashed)})
		start = end
	}
	return runs
}

// loadBulk writes runs with one statement each (two in overwrite mode),
// switching the transaction's org between runs; the transaction starts in
// the first run's org.
func loadBulk(ctx context.Context, tx *sqlx.Tx, t ports.ArchiveTable, runs []bulkRun, overwrite bool) (ports.LoadResult, error) {
	b, ok := bulkTables[t.Name]
	if !ok {
		return ports.LoadResult{}, fmt.Errorf("no bulk statement for %s", t.Name)
	}
	var res ports.LoadResult
	for i, run := range runs {
		if i > 0 {
			if _, err := tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true)`, run.org); err != nil {
				return ports.LoadResult{}, err
			}
		}
		updated := int64(0)
		if overwrite && b.upd != "" {
			n, err := rowsAffected(tx.ExecContext(ctx, b.upd, run.args...))
			if err != nil {
				return ports.LoadResult{}, err
			}
			updated = n
		}
		inserted, err := rowsAffected(tx.ExecContext(ctx, b.ins, run.args...))
		if err != nil {
			return ports.LoadResult{}, err
		}
		res.Updated += int(updated)
		res.Inserted += int(inserted)
		res.Skipped += run.n - int(updated) - int(inserted)
	}
	return res, nil
}
