package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/qdrantindex"
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
	// Checkpoint records how far a migrate-data copy into the store got.
	Checkpoint ports.MigrationCheckpoint
	// Memories is the same store's memory port (benchmarks seed through it).
	Memories ports.MemoryStore
	// DataKeys are the stored data keys: a restore of an encrypted archive
	// into an empty store loads them first (`--keys`).
	DataKeys ports.DataKeyStore
	Close    func() error
	// text is the store's own text index (OpenArchiveVectors' indexer).
	text ports.TextIndex
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
	cp, _ := b.Migration.(ports.MigrationCheckpoint) // both stores; nil leaves migrate-data unresumable
	return ArchiveBackend{Checkpoint: cp, Source: b.ArchiveSource, Sink: b.ArchiveSink, Profile: b.Name, SchemaVersion: version,
		Indexer: ix, Migration: b.Migration, Memories: b.Memories, DataKeys: b.DataKeys, Close: b.Close, text: b.Text}, nil
}

// ArchiveVectors are what the archive commands need for an archive's
// vectors (docs/archive.md, "Vectors"): the configured embedder, which an
// export with vectors embeds with, and, when a vector index outlives the
// command (Qdrant, ENGRAM_QDRANT_URL), Target: an Indexer writing it and
// the store's text index, into which an import loads archived vectors of
// the embedder's model. The in-process index lives in engramd, which
// fills it at start: a command has none to load.
type ArchiveVectors struct {
	Embedder ports.Embedder
	Target   *app.Indexer
	Close    func() error
}

// OpenArchiveVectors builds the embedder cfg names and, with Qdrant, the
// Target indexer over be's store.
func OpenArchiveVectors(cfg config.Config, be ArchiveBackend) (ArchiveVectors, error) {
	emb, err := NewEmbedder(cfg)
	if err != nil {
		return ArchiveVectors{}, fmt.Errorf("ENGRAM_EMBEDDER: %w", err)
	}
	av := ArchiveVectors{Embedder: emb, Close: func() error { return nil }}
	if cfg.QdrantURL == "" {
		return av, nil
	}
	qc, err := qdrantConfig(cfg)
	if err != nil {
		return ArchiveVectors{}, err
	}
	q, err := qdrantindex.Connect(qc)
	if err != nil {
		return ArchiveVectors{}, fmt.Errorf("ENGRAM_QDRANT_URL: %w", err)
	}
	av.Close = q.Close
	av.Target = app.NewIndexer(app.IndexerDeps{Memories: be.Memories, Text: be.text, Vectors: q, Embedder: emb})
	return av, nil
}

// archiveDeps serves the export and import routes from the store's archive
// ports, indexing imported memories through the serving Indexer, which
// also loads an archive's vectors of emb's model; an export with vectors
// embeds with emb.
func archiveDeps(cfg config.Config, b Backend, core Core, emb ports.Embedder) httpapi.ArchiveDeps {
	version, _ := LatestPostgresMigration()
	changed := core.Indexer.MemoriesChanged
	var vectors archive.VectorTarget = core.Indexer
	if core.Follower != nil {
		changed = core.Follower.MemoriesChanged // indexed once, not again from the feed
		vectors = core.Follower
	}
	return httpapi.ArchiveDeps{Source: b.ArchiveSource, Sink: b.ArchiveSink, MaxImportBytes: cfg.ImportMaxBytes,
		SchemaVersion: version, Profile: b.Name, Changed: changed, Vectors: vectors, Embedder: emb}
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
