package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("purge-feedback", command{
		summary: "apply feedback retention: delete feedback and query logs older than --older-than (default 30 days)",
		run:     runPurgeFeedback,
	})
}

// feedbackStore is a system of record that keeps feedback, query logs and
// experiments besides memories: sqlitestore and pgstore both do.
type feedbackStore interface {
	searchStore
	ports.FeedbackStore
	ports.QueryLog
	ports.ExperimentStore
}

// storeFlags are the flags every feedback command takes to find the store.
type storeFlags struct {
	dataDir, pgURL *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		dataDir: fs.String("data-dir", envOr("ENGRAM_DATA_DIR", "./data"), "data directory of the embedded store"),
		pgURL:   fs.String("postgres-url", os.Getenv("ENGRAM_POSTGRES_URL"), "PostgreSQL URL of a member of engram_app (instead of the embedded store)"),
	}
}

// open returns the store and its closer.
func (f storeFlags) open(ctx context.Context) (feedbackStore, func() error, error) {
	if *f.pgURL != "" {
		s, err := pgstore.Open(ctx, pgstore.Config{URL: *f.pgURL})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	}
	s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: wiring.SQLitePath(*f.dataDir)})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}

// runPurgeFeedback deletes, org by org, every feedback event and query log
// older than the retention period. Run it daily (cron, a Kubernetes
// CronJob); it is idempotent.
func runPurgeFeedback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("purge-feedback", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addStoreFlags(fs)
	retention := fs.String("older-than", envOr("ENGRAM_FEEDBACK_RETENTION", domain.DefaultFeedbackRetain.String()),
		"retention: delete what is older than this, e.g. 720h (default $ENGRAM_FEEDBACK_RETENTION or 30 days)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("purge-feedback: unexpected argument %q", fs.Arg(0))
	}
	olderThan, err := time.ParseDuration(*retention)
	if err != nil || olderThan <= 0 {
		return fmt.Errorf("purge-feedback: --older-than (ENGRAM_FEEDBACK_RETENTION) must be a positive duration such as 720h, got %q", *retention)
	}
	st, closeStore, err := sf.open(ctx)
	if err != nil {
		return fmt.Errorf("purge-feedback: %w", err)
	}
	defer func() { _ = closeStore() }()
	svc := app.NewFeedbackService(app.FeedbackDeps{Feedback: st, Queries: st, Experiments: st, Retention: olderThan})
	before := time.Now().Add(-olderThan).UTC()
	results, err := svc.Purge(ctx, before)
	var total int64
	for _, r := range results {
		total += r.Deleted
		if r.Deleted > 0 {
			fmt.Fprintf(stdout, "%s: deleted %d feedback events\n", r.Org, r.Deleted)
		}
	}
	if err != nil {
		return fmt.Errorf("purge-feedback: %w", err)
	}
	fmt.Fprintf(stdout, "purged %d feedback events older than %s across %d orgs\n", total, before.Format(time.RFC3339), len(results))
	return nil
}
