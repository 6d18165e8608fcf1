package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

func init() {
	register("purge-feedback", command{
		summary: "apply feedback retention: delete feedback and query logs older than --older-than (default 30 days)",
		run:     runPurgeFeedback,
	})
}

// runPurgeFeedback deletes, org by org, every feedback event and query log
// older than the retention period. Run it daily (cron, a Kubernetes
// CronJob); it is idempotent.
func runPurgeFeedback(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("purge-feedback", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url")
	def := getenv("ENGRAM_FEEDBACK_RETENTION")
	if def == "" {
		def = domain.DefaultFeedbackRetain.String()
	}
	retention := fs.String("older-than", def,
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
	cfg, err := loadCommandConfig(cc)
	if err != nil {
		return fmt.Errorf("purge-feedback: %w", err)
	}
	b, err := wiring.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return fmt.Errorf("purge-feedback: %w", err)
	}
	defer b.Close()
	svc := app.NewFeedbackService(app.FeedbackDeps{Feedback: b.Feedback, Queries: b.QueryLog, Experiments: b.Experiments, Retention: olderThan})
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
