package wiring

import (
	"context"
	"fmt"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
)

// ArchiveStore is the system of record as export, import, backup and
// restore see it: its tables, and the memory ports to index what lands.
type ArchiveStore interface {
	Store
	ports.MemoryScanner
	ports.ArchiveSource
	ports.ArchiveSink
}

// ArchiveBackend is an open ArchiveStore with what the archive commands need
// beside it.
type ArchiveBackend struct {
	Store ArchiveStore
	// Profile is "sqlite" or "postgres", written in manifests.
	Profile string
	// SchemaVersion is the highest migration this binary embeds.
	SchemaVersion uint
	// Indexer writes imported memories into the store's own text index.
	// Vectors are not written: engramd fills its in-process vector index
	// from the store at start (re-embedding), and Qdrant is rebuilt by
	// `engram reindex --qdrant-addr`.
	Indexer *app.Indexer
	Close   func() error
}

// OpenArchiveStore opens the system of record cfg names, migrating
// PostgreSQL first unless cfg.NoMigrate (SQLite migrates on open).
func OpenArchiveStore(ctx context.Context, cfg config.Config) (ArchiveBackend, error) {
	version, err := LatestPostgresMigration()
	if err != nil {
		return ArchiveBackend{}, err
	}
	var (
		st      ArchiveStore
		profile string
		closeFn func() error
	)
	switch {
	case cfg.PostgresURL != "":
		if !cfg.NoMigrate {
			if _, err := pgstore.Migrate(ctx, cfg.PostgresURL, pgstore.Up); err != nil {
				return ArchiveBackend{}, fmt.Errorf("ENGRAM_POSTGRES_URL: migrate: %w", err)
			}
		}
		s, err := pgstore.Open(ctx, pgstore.Config{URL: cfg.PostgresURL, MaxOpenConns: cfg.PGMaxConns,
			Options: pgstore.Options{StatementTimeout: cfg.PGStmtTimeout}})
		if err != nil {
			return ArchiveBackend{}, fmt.Errorf("ENGRAM_POSTGRES_URL: %w", err)
		}
		st, profile, closeFn = s, "postgres", s.Close
	default:
		s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: SQLitePath(cfg.DataDir)})
		if err != nil {
			return ArchiveBackend{}, fmt.Errorf("ENGRAM_DATA_DIR: %w", err)
		}
		st, profile, closeFn = s, "sqlite", s.Close
	}
	text, err := TextIndexOf(st)
	if err != nil {
		_ = closeFn()
		return ArchiveBackend{}, err
	}
	ix := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text})
	return ArchiveBackend{Store: st, Profile: profile, SchemaVersion: version, Indexer: ix, Close: closeFn}, nil
}

// archiveDeps serves the export and import routes from the undecorated
// store (the archive ports are its own, beside the decorated memory port),
// indexing imported memories through the system's Indexer.
func (s *System) archiveDeps() httpapi.ArchiveDeps {
	st, ok := s.raw.(ArchiveStore)
	if !ok {
		return httpapi.ArchiveDeps{}
	}
	version, _ := LatestPostgresMigration()
	d := httpapi.ArchiveDeps{Source: st, Sink: st, MaxImportBytes: s.Config.ImportMaxBytes,
		SchemaVersion: version, Profile: s.storeName}
	if s.Indexer != nil {
		d.Changed = s.Indexer.MemoriesChanged
	}
	return d
}
