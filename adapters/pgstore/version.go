package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/engram-memory/engram/domain"
)

// defaultMigrationsTable is golang-migrate's bookkeeping table.
const defaultMigrationsTable = "schema_migrations"

// Version reports the schema version at url and whether a failed migration
// left it dirty (then it needs manual repair and `migrate force`). An empty
// database is version 0.
//
// It reads golang-migrate's table with one SELECT rather than through
// golang-migrate, whose driver first looks the table up in
// information_schema.tables — which hides tables the role has no privilege
// on — and then tries to CREATE it: as the runtime role (a member of
// engram_app, which may only SELECT it, migration 0021) that fails with
// "permission denied for schema public" on PostgreSQL 15.
func Version(ctx context.Context, dsn string) (version uint, dirty bool, err error) {
	if dsn == "" {
		return 0, false, fmt.Errorf("pgstore: migration version: %w", domain.Invalid("postgres_url", "must be set"))
	}
	conn, table := versionDSN(dsn)
	db, err := openBounded(conn, defaultStatementTimeout+2*time.Second)
	if err != nil {
		return 0, false, fmt.Errorf("pgstore: migration version: %w", domain.Invalid("postgres_url", "%v", err))
	}
	defer db.Close()
	var v int64
	err = db.QueryRowContext(ctx, `SELECT version, dirty FROM `+pq.QuoteIdentifier(table)+` LIMIT 1`).Scan(&v, &dirty)
	var pqErr *pq.Error
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case errors.As(err, &pqErr) && pqErr.Code == pqerror.UndefinedTable:
		return 0, false, nil // never migrated
	case errors.As(err, &pqErr) && pqErr.Code == pqerror.InsufficientPrivilege:
		return 0, false, fmt.Errorf("pgstore: migration version: the login role may not read %s: "+
			"run `engram migrate up` as the schema owner (it grants engram_app SELECT on it): %w", table, mapErr(err))
	case err != nil:
		return 0, false, fmt.Errorf("pgstore: migration version: %w", mapErr(err))
	case v < 0: // golang-migrate's "no version", kept while dirty
		return 0, dirty, nil
	}
	return uint(v), dirty, nil
}

// versionDSN strips golang-migrate's x-* options from a URL (lib/pq would
// send them to the server as run-time parameters, which it rejects) and
// returns the bookkeeping table's name.
func versionDSN(dsn string) (conn, table string) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn, defaultMigrationsTable
	}
	q := u.Query()
	table = defaultMigrationsTable
	if t := q.Get("x-migrations-table"); t != "" {
		table = t
	}
	for k := range q {
		if strings.HasPrefix(k, "x-") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), table
}
