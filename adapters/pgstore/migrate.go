package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/database/postgres"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/engram-memory/engram/domain"
	pgmigrations "github.com/engram-memory/engram/migrations/postgres"
)

// Direction says which way Migrate moves the schema.
type Direction string

// Migration directions. Down reverts one migration per call: dropping
// every table of a production database should take more than one typo.
const (
	Up   Direction = "up"
	Down Direction = "down"
)

// Migrate applies (Up: all pending) or reverts (Down: the latest) embedded
// migrations on the database at url, and returns the version it left. Run
// it as the schema owner, not as the runtime role. The url may carry
// search_path=<schema> to migrate into a schema other than public and
// x-migrations-table=<name> for golang-migrate's bookkeeping table.
func Migrate(ctx context.Context, url string, dir Direction) (version uint, err error) {
	m, err := newMigrate(ctx, url)
	if err != nil {
		return 0, err
	}
	defer closeMigrate(m, &err)
	// golang-migrate takes no context; GracefulStop makes it stop between
	// migrations when ctx ends.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			m.GracefulStop <- true
		case <-done:
		}
	}()
	switch dir {
	case Up:
		err = m.Up()
	case Down:
		if v, _, verr := MigrationVersion(m); verr != nil || v == 0 {
			if verr != nil {
				return 0, verr
			}
			return 0, fmt.Errorf("pgstore: migrate down: the schema has no migration to revert: %w", domain.ErrConflict)
		}
		err = m.Steps(-1)
	default:
		return 0, fmt.Errorf("pgstore: migrate: %w", domain.Invalid("direction", "must be up or down, got %q", dir))
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return 0, fmt.Errorf("pgstore: migrate %s: %w", dir, mapErr(migrateCause(err)))
	}
	v, _, err := MigrationVersion(m)
	return v, err
}

// Force records version as the schema's current one and clears the dirty
// flag without running any migration: the way out after a migration failed
// half-way and an operator repaired the schema by hand.
func Force(ctx context.Context, url string, version int) (err error) {
	if version < 0 {
		return fmt.Errorf("pgstore: migrate force: %w", domain.Invalid("version", "must be 0 or more"))
	}
	m, err := newMigrate(ctx, url)
	if err != nil {
		return err
	}
	defer closeMigrate(m, &err)
	if version == 0 {
		version = -1 // golang-migrate's "no version"
	}
	if err := m.Force(version); err != nil {
		return fmt.Errorf("pgstore: migrate force %d: %w", version, mapErr(migrateCause(err)))
	}
	return nil
}

// MigrationVersion reads m's version; an empty database is version 0.
func MigrationVersion(m *migrate.Migrate) (uint, bool, error) {
	v, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pgstore: migration version: %w", mapErr(err))
	}
	return v, dirty, nil
}

// migrateIdle bounds each socket wait of a migration whose URL sets no
// x-statement-timeout: a migration statement (an index build, say) may
// run silently for minutes, but a server silent for this long is not
// working. Ten minutes is generous for Engram's migrations.
const migrateIdle = 10 * time.Minute

// migrateGrace is how long past ctx's deadline a migration's statements
// may still wait, so that one finishing just then is not cut.
const migrateGrace = 2 * time.Second

// newMigrate builds golang-migrate on a pool of bounded connections (see
// dial.go): golang-migrate's own driver dials plain lib/pq connections that
// a frozen server holds forever, and passes no context to its statements.
// Every socket wait ends by ctx's deadline (plus migrateGrace) and within
// the idle bound; cancelling ctx without a deadline stops between
// migrations (GracefulStop), never mid-statement, so a migration is not
// left dirty by an interrupt.
func newMigrate(ctx context.Context, rawURL string) (*migrate.Migrate, error) {
	if rawURL == "" {
		return nil, fmt.Errorf("pgstore: migrate: %w", domain.Invalid("postgres_url", "must be set"))
	}
	src, err := iofs.New(pgmigrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("pgstore: migrate: embedded migrations: %w", err)
	}
	cfg, dsn, idle, err := migrateConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("pgstore: migrate: %w", domain.Invalid("postgres_url", "%v", err))
	}
	var limit time.Time
	if d, ok := ctx.Deadline(); ok {
		limit = d.Add(migrateGrace)
	}
	db, err := openBoundedDB(dsn, idle, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: migrate: %w", domain.Invalid("postgres_url", "%v", err))
	}
	drv, err := postgres.WithInstance(db, cfg)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("pgstore: migrate: connect: %w", mapErr(migrateCause(err)))
	}
	m, err := migrate.NewWithInstance("iofs", src, "postgres", drv)
	if err != nil {
		_ = drv.Close()
		return nil, fmt.Errorf("pgstore: migrate: connect: %w", mapErr(migrateCause(err)))
	}
	return m, nil
}

// migrateConfig reads golang-migrate's x-* options from a URL the way its
// postgres driver does, and returns the URL without them (lib/pq would
// send them to the server, which rejects them) and the socket idle bound.
func migrateConfig(rawURL string) (*postgres.Config, string, time.Duration, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", 0, err
	}
	q := u.Query()
	cfg := &postgres.Config{
		DatabaseName:          u.Path,
		MigrationsTable:       q.Get("x-migrations-table"),
		MultiStatementMaxSize: postgres.DefaultMultiStatementMaxSize,
	}
	if s := q.Get("x-migrations-table-quoted"); s != "" {
		if cfg.MigrationsTableQuoted, err = strconv.ParseBool(s); err != nil {
			return nil, "", 0, fmt.Errorf("x-migrations-table-quoted: %w", err)
		}
	}
	if t := cfg.MigrationsTable; cfg.MigrationsTableQuoted && (len(t) < 2 || t[0] != '"' || t[len(t)-1] != '"') {
		return nil, "", 0, fmt.Errorf("x-migrations-table must be quoted when x-migrations-table-quoted is on, got %s", t)
	}
	idle := migrateIdle
	if s := q.Get("x-statement-timeout"); s != "" {
		ms, err := strconv.Atoi(s)
		if err != nil {
			return nil, "", 0, fmt.Errorf("x-statement-timeout: %w", err)
		}
		cfg.StatementTimeout = time.Duration(ms) * time.Millisecond
		if ms > 0 {
			idle = cfg.StatementTimeout + 2*time.Second
		}
	}
	if s := q.Get("x-multi-statement"); s != "" {
		if cfg.MultiStatementEnabled, err = strconv.ParseBool(s); err != nil {
			return nil, "", 0, fmt.Errorf("x-multi-statement: %w", err)
		}
	}
	if s := q.Get("x-multi-statement-max-size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, "", 0, fmt.Errorf("x-multi-statement-max-size: %w", err)
		}
		if n > 0 {
			cfg.MultiStatementMaxSize = n
		}
	}
	return cfg, migrate.FilterCustomQuery(u).String(), idle, nil
}

func closeMigrate(m *migrate.Migrate, err *error) {
	srcErr, dbErr := m.Close()
	if *err == nil {
		if cerr := errors.Join(srcErr, dbErr); cerr != nil {
			*err = fmt.Errorf("pgstore: migrate: close: %w", mapErr(cerr))
		}
	}
}

// migrateCause exposes the driver error inside golang-migrate's
// database.Error (which has no Unwrap), so that mapErr classifies it: a
// role that may not create tables is domain.ErrForbidden, not an outage.
func migrateCause(err error) error {
	var de *database.Error
	if errors.As(err, &de) && de.OrigErr != nil {
		return fmt.Errorf("%s: %w", de.Error(), de.OrigErr)
	}
	return err
}
