package wiring

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
	"github.com/engram-memory/engram/ports/intercept"
)

// Backend is the system of record, opened once: every port its tables serve
// and the optional capabilities found on the adapter. OpenStore returns it
// undecorated; Build decorates the port fields and keeps the capabilities
// as they are (a decorator would hide them).
type Backend struct {
	// Name is the dependency's name in metrics, breakers and /readyz:
	// "sqlite" or "postgres".
	Name        string
	Memories    ports.MemoryStore
	Apps        ports.AppStore
	Access      ports.AccessLog
	Feedback    ports.FeedbackStore
	QueryLog    ports.QueryLog
	Experiments ports.ExperimentStore
	// ArchiveSource and ArchiveSink read and write whole tenants for
	// export, import, backup and restore.
	ArchiveSource ports.ArchiveSource
	ArchiveSink   ports.ArchiveSink
	// Migration marks the store as an unfinished migrate-data target.
	Migration ports.DataMigration
	// Keys holds API keys (hashes only); Owners finds a memory's user in
	// an org, for project keys on the mem0-compatible routes.
	Keys   ports.KeyStore
	Owners ports.MemoryOwners
	// Inference applies inference decisions and queues inference events.
	Inference intercept.InferenceStore
	// OAuth keeps the built-in authorization server's clients, users and
	// grants.
	OAuth ports.OAuthStore
	// UISessions keeps the dashboard's signed-in browsers.
	UISessions ports.UISessionStore
	// Erasure, Subjects and Audit keep erasure jobs, reach a subject's
	// rows and hold the audit trail (docs/privacy.md).
	Erasure  ports.ErasureJobs
	Subjects ports.SubjectStore
	Audit    ports.AuditLog
	// Retention keeps org retention policies and finds expired memories.
	Retention ports.RetentionStore
	// Compact purges erased bytes the store keeps after their rows are
	// gone (SQLite's FTS5 pages and WAL); nil when there are none.
	Compact func(context.Context) error

	// Scanner walks every memory for rebuilds (engram reindex, start-up).
	Scanner ports.MemoryScanner
	// Text is the store's own text index (FTS5 or PostgreSQL full text),
	// which lives in the same database and transaction as the memories.
	Text ports.TextIndex
	// Drift reports text index entries that lag the store; nil when Text
	// cannot tell.
	Drift ports.IndexDrift
	// Feed lists committed changes across tenants, so a serving process
	// sees other processes' writes; nil when the store has none.
	Feed ports.ChangeFeed
	// Outbox is the durable record of what the external indexes (Qdrant,
	// Elasticsearch) still have to apply, written with every change.
	Outbox ports.IndexOutbox
	// DB is the connection pool, for pool metrics; nil when not pooled.
	DB *sql.DB
	// Check is the store's /readyz entry.
	Check httpapi.Check
	// Close releases the store.
	Close func() error
	// Encryption is the key-encryption key and whether new values are
	// sealed; DataKeys are the stored (wrapped) data keys.
	Encryption Encryption
	DataKeys   ports.DataKeyStore
	// KeyCache forgets the data keys this process cached of a subject
	// erased by another process (newPrivacy).
	KeyCache ports.DataKeyForgetter
	// Sealer seals the rows written before encryption was on (`engram
	// keys seal`).
	Sealer ports.PlaintextSealer
	// SessionKeys lends the data keys to the session store (OpenCaches),
	// which seals events with them when encryption is on.
	SessionKeys ports.SessionKeys
	// Entities keeps entities, memory links and co-occurrence edges
	// (issue 18, docs/entities.md).
	Entities ports.EntityStore
	// Positions stamps writes with a consistency token when reads go to
	// replicas (ENGRAM_POSTGRES_REPLICA_URLS); nil otherwise.
	Positions ports.CommitPositions
	// ReplicaChecks are the read replicas' /readyz entries (never
	// required: a replica down only moves its reads to the primary), and
	// Replicas their last samples, for metrics.
	ReplicaChecks []httpapi.Check
	Replicas      func() []pgstore.ReplicaStatus
}

// OpenStore opens the system of record cfg names: PostgreSQL when
// ENGRAM_POSTGRES_URL is set (migrated first unless cfg.NoMigrate, in which
// case a schema older than this binary is refused), else the SQLite file in
// ENGRAM_DATA_DIR.
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger) (Backend, error) {
	enc, err := OpenEncryption(cfg, log)
	if err != nil {
		return Backend{}, err
	}
	switch {
	case cfg.PostgresURL != "":
		if err := ensureSchema(ctx, cfg, log); err != nil {
			return Backend{}, err
		}
		st, err := pgstore.Open(ctx, pgstore.Config{
			URL: cfg.PostgresURL, MaxOpenConns: cfg.PGMaxConns,
			Replicas: pgstore.Replicas{URLs: cfg.ReplicaURLs(), MaxLag: cfg.PGReplicaMaxLag, Wait: cfg.PGReplicaWait},
			Options:  pgstore.Options{StatementTimeout: cfg.PGStmtTimeout, Origin: newOrigin(), Keys: kekOrNil(enc), Encrypt: enc.On, Log: log},
		})
		if err != nil {
			return Backend{}, fmt.Errorf("ENGRAM_POSTGRES_URL: %w", err)
		}
		feed, err := st.Feed(ctx, cfg.PostgresURL)
		if err != nil {
			_ = st.Close()
			return Backend{}, fmt.Errorf("ENGRAM_POSTGRES_URL: %w", err)
		}
		text := st.TextIndex(pgstore.TextOptions{})
		b := Backend{
			Name: "postgres", Memories: st, Apps: st, Access: st, Feedback: st, QueryLog: st, Experiments: st,
			ArchiveSource: st, ArchiveSink: st, Migration: st, Keys: st, OAuth: st, UISessions: st, Owners: st, Erasure: st, Subjects: st, Audit: st, Retention: st, DataKeys: st, Sealer: st, SessionKeys: st, KeyCache: st, Entities: st, Inference: st,
			Scanner: st, Text: text, Drift: text, DB: st.DB().DB, Feed: feed, Outbox: st.Outbox(),
			Check:      httpapi.Check{Name: "postgres", Required: true, Probe: st.Ping},
			Close:      func() error { return errors.Join(feed.Close(), st.Close()) },
			Encryption: enc,
		}
		if len(cfg.ReplicaURLs()) > 0 {
			b.Positions, b.Replicas = st, st.Replicas
			b.ReplicaChecks = replicaChecks(st, log)
		}
		return b, nil
	default:
		st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: SQLitePath(cfg.DataDir), Keys: kekOrNil(enc), Encrypt: enc.On})
		if err != nil {
			return Backend{}, fmt.Errorf("ENGRAM_DATA_DIR: %w", err)
		}
		text := st.TextIndex()
		feed, err := st.Feed(ctx)
		if err != nil {
			_ = st.Close()
			return Backend{}, fmt.Errorf("ENGRAM_DATA_DIR: %w", err)
		}
		return Backend{
			Name: "sqlite", Memories: st, Apps: st, Access: st, Feedback: st, QueryLog: st, Experiments: st,
			ArchiveSource: st, ArchiveSink: st, Migration: st, Keys: st, OAuth: st, UISessions: st, Owners: st, Erasure: st, Subjects: st, Audit: st, Retention: st, DataKeys: st, Sealer: st, SessionKeys: st, KeyCache: st, Entities: st, Inference: st,
			Compact: st.Compact,
			Scanner: st, Text: text, Drift: text, Feed: feed, Outbox: st.Outbox(),
			Check: httpapi.Check{Name: "sqlite", Required: true, Probe: func(ctx context.Context) error {
				_, err := st.Stats(ctx, probeTenant)
				return err
			}},
			Close:      func() error { return errors.Join(feed.Close(), st.Close()) },
			Encryption: enc,
		}, nil
	}
}

// kekOrNil keeps a nil *keywrap.Ring from becoming a non-nil interface.
func kekOrNil(e Encryption) ports.KeyWrapper {
	if e.KEK == nil {
		return nil
	}
	return e.KEK
}

// newOrigin names this process in the store's change records, so that its
// change feed leaves out what it indexed itself.
func newOrigin() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// probeTenant owns nothing; reading its stats exercises the read path.
var probeTenant = domain.Tenant{OrgID: "engram-readiness", UserID: "probe"}

// SQLitePath is where the embedded store keeps its file.
func SQLitePath(dataDir string) string { return filepath.Join(dataDir, "engram.db") }

// replicaChecks are one /readyz entry per read replica, named by position
// (postgres_replica0, …; never the host: /readyz is unauthenticated), down
// with the reason in the log when the replica is skipped. A replica that
// does not answer at start is only a warning: reads go to the primary
// until it does.
func replicaChecks(st *pgstore.Store, log *slog.Logger) []httpapi.Check {
	var out []httpapi.Check
	for i, rs := range st.Replicas() {
		if !rs.Up {
			log.Warn("postgres read replica not usable at start: its reads go to the primary until it is", "replica", rs.Name, "err", rs.Err)
		}
		out = append(out, httpapi.Check{
			Name: "postgres_" + rs.Name,
			Probe: func(context.Context) error {
				if r := st.Replicas()[i]; !r.Up {
					return fmt.Errorf("%s skipped: %w", r.Name, r.Err)
				}
				return nil
			},
			LagSeconds: func() float64 { return st.Replicas()[i].Lag.Seconds() },
		})
	}
	return out
}
