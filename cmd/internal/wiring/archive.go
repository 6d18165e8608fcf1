package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
)

// ArchiveBackend is the system of record as export, import, backup and
// restore see it: its archive ports, and an indexer for what lands.
type ArchiveBackend struct {
	Source ports.ArchiveSource
	Sink   ports.ArchiveSink
	// Profile is "sqlite" or "postgres", written in manifests.
	Profile string
	// SchemaVersion is the highest migration this binary embeds.
	SchemaVersion uint
	// Indexer writes imported memories into the store's own text index.
	// Vectors are not written: engramd fills its in-process vector index
	// from the store at start (re-embedding), and Qdrant is rebuilt by
	// `engram reindex`.
	Indexer *app.Indexer
	// Migration marks the store as an unfinished migrate-data target.
	Migration ports.DataMigration
	// Memories is the same store's memory port (benchmarks seed through it).
	Memories ports.MemoryStore
	// DataKeys are the stored data keys: a restore of an encrypted archive
	// into an empty store loads them first (`--keys`).
	DataKeys ports.DataKeyStore
	Close    func() error
}

// OpenArchiveStore opens the system of record cfg names (OpenStore:
// PostgreSQL is migrated first unless cfg.NoMigrate).
func OpenArchiveStore(ctx context.Context, cfg config.Config) (ArchiveBackend, error) {
	version, err := LatestPostgresMigration()
	if err != nil {
		return ArchiveBackend{}, err
	}
	b, err := OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return ArchiveBackend{}, err
	}
	ix := app.NewIndexer(app.IndexerDeps{Memories: b.Memories, Scanner: b.Scanner, Text: b.Text})
	return ArchiveBackend{Source: b.ArchiveSource, Sink: b.ArchiveSink, Profile: b.Name, SchemaVersion: version,
		Indexer: ix, Migration: b.Migration, Memories: b.Memories, DataKeys: b.DataKeys, Close: b.Close}, nil
}

// archiveDeps serves the export and import routes from the store's archive
// ports, indexing imported memories through the serving Indexer.
func archiveDeps(cfg config.Config, b Backend, core Core) httpapi.ArchiveDeps {
	version, _ := LatestPostgresMigration()
	changed := core.Indexer.MemoriesChanged
	if core.Follower != nil {
		changed = core.Follower.MemoriesChanged // indexed once, not again from the feed
	}
	return httpapi.ArchiveDeps{Source: b.ArchiveSource, Sink: b.ArchiveSink, MaxImportBytes: cfg.ImportMaxBytes,
		SchemaVersion: version, Profile: b.Name, Changed: changed}
}

// RefuseUnfinishedMigration stops engramd from serving a store that an
// `engram migrate-data` is still filling: it would serve half the data.
func RefuseUnfinishedMigration(ctx context.Context, b Backend) error {
	if b.Migration == nil {
		return nil
	}
	src, since, ok, err := b.Migration.MigrationInProgress(ctx)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("this %s store is the target of an unfinished `engram migrate-data` from %s (started %s): "+
			"run the same migrate-data again to finish it, or `engram migrate-data --rollback --to ...` to empty it", b.Name, src, since.Format(time.RFC3339))
	}
	return nil
}
