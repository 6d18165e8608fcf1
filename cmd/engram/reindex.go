package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/engram-memory/engram/adapters/esindex"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/qdrantindex"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/wiring"
)

func init() {
	register("reindex", command{
		summary: "rebuild the search indexes from the store (after a crash or a model change)",
		run:     runReindex,
	})
}

// runReindex rewrites every active memory into the store's text index and,
// to prove the embedder and vector space agree, into a fresh vector index.
// The in-process vector index itself is rebuilt by engramd at every start.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("ENGRAM_DATA_DIR", "./data"), "data directory of the embedded store")
	pgURL := fs.String("postgres-url", os.Getenv("ENGRAM_POSTGRES_URL"), "PostgreSQL URL (instead of the embedded store)")
	text := fs.Bool("text", true, "rebuild the text index")
	vectors := fs.Bool("vectors", true, "embed every memory (checks the embedder against the vector space)")
	emb := fs.String("embedder", envOr("ENGRAM_EMBEDDER", "local"), "embedder: local or openai")
	qdrantAddr := fs.String("qdrant-addr", os.Getenv("ENGRAM_QDRANT_ADDR"), "rebuild this Qdrant (host:grpc-port) instead of the in-process vectors")
	esURL := fs.String("elasticsearch-url", os.Getenv("ENGRAM_ELASTICSEARCH_URL"), "rebuild this Elasticsearch instead of the store's text index")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("reindex: unexpected argument %q", fs.Arg(0))
	}
	var st searchStore
	if *pgURL != "" {
		s, err := pgstore.Open(ctx, pgstore.Config{URL: *pgURL})
		if err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
		defer s.Close()
		st = s
	} else {
		s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: wiring.SQLitePath(*dataDir)})
		if err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
		defer s.Close()
		st = s
	}
	stack, err := newSearchStack(ctx, st, embedderConfig{Kind: *emb, URL: os.Getenv("ENGRAM_EMBED_URL"),
		APIKey: os.Getenv("ENGRAM_EMBED_API_KEY"), Model: os.Getenv("ENGRAM_EMBED_MODEL")}, false)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer stack.Memories.Close()
	ix, closeIx, err := fleetIndexer(ctx, stack, *qdrantAddr, *esURL)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer closeIx()
	start := time.Now()
	last := start
	n, err := ix.Reindex(ctx, app.ReindexOptions{Text: *text, Vectors: *vectors, Progress: func(n int) {
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

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// fleetIndexer swaps in Qdrant and Elasticsearch when their addresses are
// given; otherwise it is the stack's own indexer.
func fleetIndexer(ctx context.Context, s *searchStack, qdrantAddr, esURL string) (*app.Indexer, func(), error) {
	if qdrantAddr == "" && esURL == "" {
		return s.Indexer, func() {}, nil
	}
	deps := app.IndexerDeps{Memories: s.Store, Scanner: s.Store, Text: s.Text, Vectors: s.Vectors, Embedder: s.Embedder}
	var closers []func() error
	closeAll := func() {
		for _, c := range closers {
			_ = c()
		}
	}
	if qdrantAddr != "" {
		host, port, err := net.SplitHostPort(qdrantAddr)
		if err != nil {
			return nil, nil, fmt.Errorf("--qdrant-addr: %w", err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, nil, fmt.Errorf("--qdrant-addr: %w", err)
		}
		q, err := qdrantindex.Open(ctx, qdrantindex.Config{Host: host, Port: p, APIKey: os.Getenv("ENGRAM_QDRANT_API_KEY")})
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, q.Close)
		deps.Vectors = q
	}
	if esURL != "" {
		e, err := esindex.Open(ctx, esindex.Config{Addresses: []string{esURL}})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		deps.Text = e
	}
	return app.NewIndexer(deps), closeAll, nil
}
