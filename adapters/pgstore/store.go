package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.MemoryStore = (*Store)(nil)
	_ ports.AppStore    = (*Store)(nil)
	_ ports.AccessLog   = (*Store)(nil)
	_ ports.LoadSettler = (*Store)(nil)
)

const defaultStatementTimeout = 5 * time.Second

// DefaultRole is the runtime role the migrations create and grant DML to.
const DefaultRole = "engram_app"

// Config is what Open needs to dial PostgreSQL.
type Config struct {
	// URL is a lib/pq connection URL. Unknown query parameters are sent as
	// run-time parameters, so search_path=... selects a schema.
	URL             string
	MaxOpenConns    int           // default 20
	MaxIdleConns    int           // default MaxOpenConns
	ConnMaxLifetime time.Duration // default 30m; recycles connections behind poolers
	ConnMaxIdleTime time.Duration // default 5m
	// IOTimeout bounds every wait on the socket (each read and write must
	// make progress within it), so a frozen server fails calls instead of
	// hanging them: lib/pq's cancellation needs the server's help. Zero
	// means StatementTimeout + 2 s (30 s when statements are unbounded);
	// negative disables it.
	IOTimeout time.Duration
	// Replicas, when it lists URLs, routes lag-tolerant reads to
	// streaming replicas (see Replicas).
	Replicas Replicas
	Options
}

// Options tune a Store built on an existing pool.
type Options struct {
	// Role is switched to (SET LOCAL ROLE) at the start of every transaction.
	// Empty means DefaultRole.
	Role string
	// StatementTimeout bounds each statement (SET LOCAL statement_timeout);
	// a statement that exceeds it fails with domain.ErrUnavailable. Zero
	// means 5s; negative disables it.
	StatementTimeout time.Duration
	// Batch chooses how CreateBatch loads rows. Zero is BatchAuto.
	Batch BatchMode
	// Clock stamps state changes, updates and erasures. Nil is the wall clock.
	Clock ports.Clock
	// Origin names this process in memory_changes.origin, so that its Feed
	// leaves out the changes this process made (it indexed them itself).
	// Empty records NULL.
	Origin string
	// Keys wraps the per-user data keys; nil reads and writes plaintext
	// only (a sealed value then fails to read). Encrypt seals new memory
	// text and history snapshots; off, values already sealed still open.
	Keys    ports.KeyWrapper
	Encrypt bool
	// Log receives what fails in the background (SettleLoad's ANALYZE);
	// nil discards it.
	Log *slog.Logger
}

// BatchMode selects CreateBatch's loading strategy.
type BatchMode int

// Batch modes. Both deduplicate with INSERT ... ON CONFLICT DO NOTHING; COPY
// first streams rows into a temporary table, which pays off for big batches.
const (
	BatchAuto   BatchMode = iota // COPY from copyThreshold rows, else multi-row INSERT
	BatchInsert                  // INSERT ... SELECT FROM unnest($arrays)
	BatchCopy                    // COPY into a temp table, then INSERT ... SELECT
)

// Store implements the memory, app and access-log ports on PostgreSQL.
type Store struct {
	db       *sqlx.DB
	opts     Options
	prologue string // first statement of every transaction
	keys     *keyring
	io       time.Duration  // the pool's IOTimeout (Open's); 0: from the statement timeout
	loaded   loadGrowth     // rows restored per table since its last ANALYZE
	settling sync.WaitGroup // SettleLoad's background ANALYZEs, awaited by Close
	replicas *replicaSet    // nil: every read on the primary
}

// Open dials, sizes the pool, pings and checks the runtime role.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, domain.Invalid("postgres_url", "must be set")
	}
	db, err := openBounded(withBinaryParameters(cfg.URL), cfg.ioTimeout())
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", domain.Invalid("postgres_url", "%v", err))
	}
	if cfg.MaxOpenConns <= 0 {
		cfg.MaxOpenConns = 20
	}
	if cfg.MaxIdleConns <= 0 {
		cfg.MaxIdleConns = cfg.MaxOpenConns
	}
	if cfg.ConnMaxLifetime == 0 {
		cfg.ConnMaxLifetime = 30 * time.Minute
	}
	if cfg.ConnMaxIdleTime == 0 {
		cfg.ConnMaxIdleTime = 5 * time.Minute
	}
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxIdleConns)
	db.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	db.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("pgstore: ping: %w", mapErr(err))
	}
	s := New(db, cfg.Options)
	s.io = cfg.ioTimeout()
	if err := s.Check(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if len(cfg.Replicas.URLs) > 0 {
		rs, err := openReplicas(ctx, db, cfg.Replicas, cfg.MaxOpenConns, s.io, s.checkRole)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("pgstore: replicas: %w", err)
		}
		s.replicas = rs
	}
	return s, nil
}

func (cfg Config) ioTimeout() time.Duration {
	switch st := cfg.StatementTimeout; {
	case cfg.IOTimeout != 0:
		return cfg.IOTimeout
	case st == 0:
		return defaultStatementTimeout + 2*time.Second
	case st > 0:
		return st + 2*time.Second
	}
	return 30 * time.Second
}

// withBinaryParameters turns on lib/pq's binary_parameters unless the DSN
// says otherwise: a parameterised query then takes one round trip instead of
// two (no separate Parse/Describe). The store passes no []byte arguments, the
// only ones the flag changes the encoding of.
func withBinaryParameters(dsn string) string {
	if strings.Contains(dsn, "binary_parameters") {
		return dsn
	}
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("binary_parameters", "yes")
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " binary_parameters=yes"
}

// New wraps an existing pool. It does no I/O; call Check to verify the role.
func New(db *sqlx.DB, opts Options) *Store {
	if opts.Role == "" {
		opts.Role = DefaultRole
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = defaultStatementTimeout
	}
	if opts.Clock == nil {
		opts.Clock = ports.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	timeout := "0"
	if opts.StatementTimeout > 0 {
		timeout = strconv.FormatInt(max(opts.StatementTimeout.Milliseconds(), 1), 10)
	}
	// The org is appended per call as a quoted literal: a parameterless
	// statement goes out in one round trip (simple query protocol) where a
	// parameterised one takes two with lib/pq.
	prologue := "SELECT set_config('role', " + pq.QuoteLiteral(opts.Role) + ", true), " +
		"set_config('statement_timeout', '" + timeout + "', true), " +
		"set_config('engram.origin', " + pq.QuoteLiteral(opts.Origin) + ", true), " +
		"set_config('engram.org_id', "
	return &Store{db: db, opts: opts, prologue: prologue, keys: &keyring{w: opts.Keys, encrypt: opts.Encrypt && opts.Keys != nil}}
}

// Check verifies that the login role may switch to the runtime role and that
// the runtime role is subject to row-level security. It fails with
// domain.ErrForbidden when the role setup would leave tenants unprotected.
func (s *Store) Check(ctx context.Context) error { return s.checkRole(ctx, s.db) }

func (s *Store) checkRole(ctx context.Context, db *sqlx.DB) error {
	var member, bypass sql.NullBool
	err := db.QueryRowContext(ctx,
		`SELECT pg_has_role(current_user, r.oid, 'MEMBER'), r.rolsuper OR r.rolbypassrls
		   FROM pg_roles r WHERE r.rolname = $1`, s.opts.Role).Scan(&member, &bypass)
	switch {
	case err == sql.ErrNoRows:
		return fmt.Errorf("pgstore: role %q does not exist; run `engram migrate up`: %w", s.opts.Role, domain.ErrUnavailable)
	case err != nil:
		return fmt.Errorf("pgstore: check role: %w", mapErr(err))
	case !member.Bool:
		return fmt.Errorf("pgstore: the login role is not a member of %q (GRANT %s TO <login role>): %w", s.opts.Role, s.opts.Role, domain.ErrForbidden)
	case bypass.Bool:
		return fmt.Errorf("pgstore: role %q bypasses row-level security: %w", s.opts.Role, domain.ErrForbidden)
	}
	return nil
}

// DB returns the pool, for health checks and tests.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the pool and the replicas' pools.
func (s *Store) Close() error {
	s.settling.Wait()
	if s.replicas != nil {
		return errors.Join(s.replicas.close(), s.db.Close())
	}
	return s.db.Close()
}

// Ping checks the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("pgstore: ping: %w", mapErr(err))
	}
	return nil
}

func (s *Store) now() time.Time { return s.opts.Clock.Now().UTC().Truncate(time.Microsecond) }

// inTx runs fn in a transaction scoped to org: runtime role, statement
// timeout and engram.org_id are set transaction-locally before fn runs, and
// the transaction commits only when fn returns nil.
func (s *Store) inTx(ctx context.Context, org domain.OrgID, readOnly bool, fn func(tx *sqlx.Tx) error) error {
	// org was validated by the caller (domain.Tenant.Validate allows no
	// quotes); QuoteLiteral makes it safe regardless.
	return s.inTxWith(ctx, pq.QuoteLiteral(string(org))+", true)", readOnly, fn)
}

// inTxWith is inTx with the rest of the prologue given: the org setting's
// value and closing parenthesis, then any further set_config calls.
func (s *Store) inTxWith(ctx context.Context, settings string, readOnly bool, fn func(tx *sqlx.Tx) error) error {
	return s.inTxOn(ctx, s.db, settings, readOnly, fn)
}

// inTxOn is inTxWith on a given pool (the primary's or a replica's).
func (s *Store) inTxOn(ctx context.Context, db *sqlx.DB, settings string, readOnly bool, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	if _, err := tx.ExecContext(ctx, s.prologue+settings); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
