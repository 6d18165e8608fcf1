// Package sqlitestore is Engram's embedded system of record: memories, their
// history, apps and the access log in one SQLite file, through the pure-Go
// modernc.org/sqlite driver (no cgo).
//
// SQLite allows one writer at a time, so the store keeps two pools: a single
// write connection (every write transaction is BEGIN IMMEDIATE on it, so
// writers queue in Go instead of failing with SQLITE_BUSY) and a pool of
// read-only connections that, thanks to WAL mode, read concurrently with the
// writer and see every committed write.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/engram-memory/engram/migrations/sqlite"
	"github.com/engram-memory/engram/ports"
)

// Pin the contracts this store implements.
var (
	_ ports.MemoryStore = (*Store)(nil)
	_ ports.AppStore    = (*Store)(nil)
	_ ports.AccessLog   = (*Store)(nil)
)

// Config says where the database lives and how to reach it.
type Config struct {
	// Path of the database file; its directory is created (0700) when missing.
	Path string
	// ReadConns bounds the read pool; 0 means max(4, GOMAXPROCS).
	ReadConns int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process before failing; 0 means 5s.
	BusyTimeout time.Duration
	// CheckpointInterval is how long after a commit the background
	// checkpoint runs; 0 means 200ms.
	CheckpointInterval time.Duration
	// Keys wraps the per-user data keys; nil reads and writes plaintext
	// only (a sealed value then fails to read). Encrypt seals new memory
	// text and history snapshots; off, values already sealed still open.
	Keys    ports.KeyWrapper
	Encrypt bool
}

// Store implements ports.MemoryStore, ports.AppStore and ports.AccessLog.
type Store struct {
	w      *sql.DB // exactly one connection: SQLite's single writer
	r      *sql.DB // read-only connections
	q      readStmts
	ws     writeStmts
	shapes shapeCache // List statements by SQL text
	bulk   bulkStmts  // archive Load's multi-row inserts
	ckpt   *checkpointer
	// counts are the text index's cached word counts, kept here so that
	// every TextIndex of the store forgets them on any one's write.
	counts termCounts
	// docFreqs are exact counts of the tenant's entries holding a word,
	// which rankCommon scores with (fts_bm25.go).
	docFreqs termCounts
	keys     keyring
}

// Open creates the file when needed, applies the migrations and returns a
// ready store. Close releases it.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	switch {
	case cfg.Path == "":
		return nil, errors.New("sqlitestore: Config.Path is required")
	case cfg.ReadConns < 0:
		return nil, fmt.Errorf("sqlitestore: Config.ReadConns must not be negative, got %d", cfg.ReadConns)
	case cfg.BusyTimeout < 0:
		return nil, fmt.Errorf("sqlitestore: Config.BusyTimeout must not be negative, got %s", cfg.BusyTimeout)
	case cfg.CheckpointInterval < 0:
		return nil, fmt.Errorf("sqlitestore: Config.CheckpointInterval must not be negative, got %s", cfg.CheckpointInterval)
	}
	if cfg.ReadConns == 0 {
		cfg.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if cfg.BusyTimeout == 0 {
		cfg.BusyTimeout = 5 * time.Second
	}
	if cfg.CheckpointInterval == 0 {
		cfg.CheckpointInterval = 200 * time.Millisecond
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlitestore: create data directory: %w", err)
	}
	if err := privateFiles(cfg.Path); err != nil {
		return nil, err
	}
	if err := migrateUp(cfg); err != nil {
		return nil, err
	}
	w, err := openPool(ctx, cfg, false, 1)
	if err != nil {
		return nil, err
	}
	r, err := openPool(ctx, cfg, true, cfg.ReadConns)
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	s := &Store{w: w, r: r, keys: keyring{w: cfg.Keys, encrypt: cfg.Encrypt && cfg.Keys != nil}}
	s.docFreqs.maxAge = docFreqMaxAge
	if s.ckpt, err = startCheckpointer(ctx, cfg); err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := errors.Join(s.q.prepare(ctx, r), s.ws.prepare(ctx, w)); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("sqlitestore: prepare statements: %w", mapErr(err))
	}
	return s, nil
}

// Close stops the checkpointer and closes the pools. The last connection to
// close checkpoints the whole WAL into the file and removes it.
func (s *Store) Close() error {
	var ckptErr error
	if s.ckpt != nil {
		ckptErr = s.ckpt.close()
	}
	s.q.close()
	return errors.Join(ckptErr, s.ws.close(), s.shapes.close(), s.bulk.close(), s.r.Close(), s.w.Close())
}

// dsn builds a modernc.org/sqlite connection string. The pragmas run on every
// new connection, which is where SQLite wants them.
func dsn(cfg Config, readOnly bool) string {
	v := url.Values{}
	v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(1)")
	// NORMAL is durable against application crashes in WAL mode; only an OS
	// crash or power loss can drop the last transactions.
	v.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		v.Add("_pragma", "query_only(1)")
	} else {
		// Erased content is overwritten with zeros instead of lingering in
		// free pages of the file.
		v.Add("_pragma", "secure_delete(1)")
		// A batch touches many index pages; with the default 2 MiB cache
		// SQLite spills dirty pages to the WAL mid-transaction and reads
		// them back. Statement journals stay in memory for the same reason.
		v.Add("_pragma", "cache_size(-65536)")
		v.Add("_pragma", "temp_store(MEMORY)")
		// Checkpoints are the checkpointer's job (checkpoint.go).
		v.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", backstopCheckpointPages))
		v.Set("_txlock", "immediate")
	}
	return "file:" + uriPath.Replace(cfg.Path) + "?" + v.Encode()
}

// uriPath escapes the characters that would end or corrupt the path part of
// an SQLite URI filename; SQLite decodes %XX before opening the file.
var uriPath = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")

func openPool(ctx context.Context, cfg Config, readOnly bool, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(cfg, readOnly))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", cfg.Path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", cfg.Path, mapErr(err))
	}
	return db, nil
}

// privateFiles creates the database file readable by its owner only, and
// makes an existing one (and its WAL and shared-memory files) so. SQLite
// would create it 0644 and gives the WAL the database file's mode, so
// every memory would be readable by every local user.
func privateFiles(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlitestore: %w", err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, info.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("sqlitestore: %s has mode %s and cannot be made private: %w", p, info.Mode().Perm(), err)
			}
		}
	}
	return nil
}

// migrateUp applies every pending migration through golang-migrate on a
// connection of its own (migrate closes the database it is given).
func migrateUp(cfg Config) error {
	db, err := sql.Open("sqlite", dsn(cfg, false))
	if err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	db.SetMaxOpenConns(1)
	drv, err := migratesqlite.WithInstance(db, &migratesqlite.Config{})
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("sqlitestore: migrate: %w", mapErr(err))
	}
	src, err := iofs.New(sqlitemigrations.FS, ".")
	if err != nil {
		_ = drv.Close()
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "sqlite", drv)
	if err != nil {
		_ = drv.Close()
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	err = m.Up()
	srcErr, dbErr := m.Close()
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("sqlitestore: migrate up: %w", err)
	}
	return errors.Join(srcErr, dbErr)
}

// write runs fn in one BEGIN IMMEDIATE transaction on the write connection and
// commits when fn returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		// A cancelled context rolls the transaction back under fn's feet;
		// fn then sees "statement is closed", which is not the cause.
		var fe fnError
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.As(err, &fe) && !errors.Is(err, ctxErr) {
			return fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err)
	}
	s.ckpt.committed()
	return nil
}
