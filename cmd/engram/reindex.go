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
)

func init() {
	register("reindex", command{
		summary: "rebuild the search indexes from the store (after a crash or a model change)",
		run:     runReindex,
	})
}

// runReindex rewrites every active memory into the configured text index
// (the store's own, or Elasticsearch with ENGRAM_ELASTICSEARCH_URL) and
// vector index (Qdrant with ENGRAM_QDRANT_URL; otherwise a fresh in-process
// one, which proves the embedder and the vector space agree — engramd
// rebuilds its in-process vectors at every start).
func runReindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url", "embedder", "embed-url", "embed-model", "qdrant-url", "elasticsearch-url")
	text := fs.Bool("text", true, "rebuild the text index")
	vectors := fs.Bool("vectors", true, "embed every memory (checks the embedder against the vector space)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("reindex: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadCommandConfig(cc)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := wiring.OpenStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer b.Close()
	s, err := wiring.OpenSearch(ctx, cfg, b)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer s.Close()
	core, err := wiring.NewCore(ctx, b, s, wiring.CoreOptions{Logger: log})
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer core.Close()
	start := time.Now()
	last := start
	n, err := core.Indexer.Reindex(ctx, app.ReindexOptions{Text: *text, Vectors: *vectors, Progress: func(n int) {
		if time.Since(last) > 2*time.Second {
			last = time.Now()
			fmt.Fprintf(stderr, "reindexed %d memories...\n", n)
		}
	}})
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "reindexed %d memories in %s (%.0f/s)\n", n, el.Round(time.Millisecond), float64(n)/max(el.Seconds(), 1e-9))
	return nil
}
