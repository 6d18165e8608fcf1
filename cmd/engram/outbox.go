package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
)

func init() {
	register("outbox", command{
		summary: "inspect the external indexes' outbox: status (backlog, oldest, parked), parked (list with errors), requeue (retry parked rows)",
		run:     runOutbox,
	})
}

// runOutbox is the operator's view of the durable index outbox
// (docs/operations.md, "Index outbox backlog or parked rows").
func runOutbox(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("outbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url")
	index := fs.String("index", "elasticsearch", "the external index: elasticsearch or qdrant")
	limit := fs.Int("limit", 100, "parked: list at most this many rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("outbox: want one of status, parked, requeue (engram outbox status --index elasticsearch)")
	}
	action := fs.Arg(0)
	if action != "status" && action != "parked" && action != "requeue" {
		return fmt.Errorf("outbox: unknown action %q: want status, parked or requeue", action)
	}
	cfg, err := loadCommandConfig(cc)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	b, err := wiring.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer b.Close()
	switch action {
	case "status":
		st, err := b.Outbox.Stats(ctx, *index)
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		age := time.Duration(0)
		if !st.Oldest.IsZero() {
			age = time.Since(st.Oldest).Round(time.Millisecond)
		}
		fmt.Fprintf(stdout, "%s: backlog %d, oldest %s, parked %d\n", *index, st.Backlog, age, st.Parked)
	case "parked":
		rows, err := b.Outbox.Parked(ctx, *index, *limit)
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		for _, r := range rows {
			fmt.Fprintf(stdout, "%s\torg=%s\tuser=%s\tattempts=%d\tparked=%s\t%s\n", r.ID, r.Tenant.OrgID, r.Tenant.UserID,
				r.Attempts, r.ParkedAt.Format(time.RFC3339), r.Error)
		}
		fmt.Fprintf(stdout, "%d parked rows listed\n", len(rows))
	case "requeue":
		n, err := b.Outbox.Requeue(ctx, *index)
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		fmt.Fprintf(stdout, "%s: %d parked rows requeued\n", *index, n)
	}
	return nil
}
