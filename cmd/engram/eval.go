package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

func init() {
	register("eval", command{
		summary: "search quality on a labelled set: recall@1/5/10, NDCG@10 and MRR per mode (and per question type and split)",
		run:     runEval,
	})
}

type evalMemory struct {
	ID, User, Text string
}

type evalQuery struct {
	User     string   `json:"user"`
	Query    string   `json:"query"`
	Relevant []string `json:"relevant"`
	// Type (single-hop, multi-hop, temporal, open-domain) and Split (dev,
	// heldout) are set by the conversational set; scores are also reported
	// per type, per split and per split and type.
	Type  string `json:"type"`
	Split string `json:"split"`
}

func runEval(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "testdata/eval", "directory holding memories.jsonl and queries.jsonl (testdata/conv: the conversational set)")
	cc := config.ForCommand(fs, getenv, "embedder", "embed-url", "embed-model")
	usePG := fs.Bool("postgres", false, "evaluate on PostgreSQL (ENGRAM_POSTGRES_URL or --postgres-url, migrated; a fresh org per run) instead of a fresh SQLite file")
	pgURL := fs.String("postgres-url", getenv("ENGRAM_POSTGRES_URL"), "PostgreSQL URL for --postgres")
	misses := fs.String("show-misses", "", "print the queries this mode (hybrid, lexical, vector) answers with nothing relevant in the top 10")
	rrfK := fs.Int("rrf-k", domain.DefaultRRFK, "k of reciprocal rank fusion")
	center := fs.Float64("centering", app.DefaultCentering, "share of the user's mean vector subtracted from vector queries (negative: off)")
	floor := fs.Float64("vector-floor", 0, "drop vector hits below this cosine similarity")
	trust := fs.Float64("vector-trust", 0, "multiplier of the hybrid vector weight (0: the embedder's default, app.VectorTrustFor)")
	short := fs.Int("short-query", app.DefaultShortQuery, "queries of at most this many words fuse at full vector weight (negative: none)")
	gap := fs.Float64("gap-boost", app.DefaultGapBoost, "per-query weight boost of a ranking whose first hit stands out (negative: off)")
	pin := fs.Float64("pin-gap", app.DefaultPinGap, "confidence at which a ranking keeps its first hit first when the other is unsure (negative: off)")
	lw := fs.Float64("lexical-weight", domain.DefaultWeights.Lexical, "hybrid weight of the lexical ranking")
	vw := fs.Float64("vector-weight", domain.DefaultWeights.Vector, "hybrid weight of the vector ranking")
	ew := fs.Float64("entity-weight", domain.DefaultWeights.Entity, "hybrid weight of the entity ranking (0: lexical and vector only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := domain.Weights{Lexical: *lw, Vector: *vw, Entity: *ew}
	if err := w.Validate(); err != nil {
		return err
	}
	cfg, err := loadCommandConfig(cc)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	cfg.PostgresURL = ""
	if *usePG {
		if *pgURL == "" {
			return fmt.Errorf("eval: --postgres needs --postgres-url or ENGRAM_POSTGRES_URL")
		}
		cfg.PostgresURL = *pgURL
	}
	scores, err := evaluate(ctx, *dir, cfg, w, domain.SearchMode(*misses), stdout, app.SearchDeps{RRFK: *rrfK, VectorFloor: *floor, Centering: *center,
		VectorTrust: *trust, ShortQuery: *short, GapBoost: *gap, PinGap: *pin})
	if err != nil {
		return err
	}
	printEval(stdout, scores)
	return nil
}

// evaluate ingests the set into a fresh embedded store through
// MemoryService (so the indexer runs as in production) and scores each mode.
func evaluate(ctx context.Context, dir string, cfg config.Config, w domain.Weights, showMisses domain.SearchMode, out io.Writer, tune app.SearchDeps) ([]evalScores, error) {
	var mems []evalMemory
	if err := readJSONL(filepath.Join(dir, "memories.jsonl"), func(dec *json.Decoder) error {
		var m evalMemory
		err := dec.Decode(&m)
		mems = append(mems, m)
		return err
	}); err != nil {
		return nil, err
	}
	var queries []evalQuery
	if err := readJSONL(filepath.Join(dir, "queries.jsonl"), func(dec *json.Decoder) error {
		var q evalQuery
		err := dec.Decode(&q)
		queries = append(queries, q)
		return err
	}); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "engram-eval-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// A fresh embedded store, or PostgreSQL when cfg names it (the org is
	// new on every run); never the vector or text backends the
	// environment names.
	cfg.DataDir, cfg.QdrantURL, cfg.ElasticURL = tmp, "", ""
	org := domain.OrgID("eval")
	if cfg.PostgresURL != "" {
		org = domain.OrgID(fmt.Sprintf("eval-%d", time.Now().UnixNano()))
	}
	b, err := wiring.OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer b.Close()
	search, err := wiring.OpenSearch(ctx, cfg, b)
	if err != nil {
		return nil, err
	}
	defer search.Close()
	stack, err := wiring.NewCore(ctx, b, search, wiring.CoreOptions{Tune: tune})
	if err != nil {
		return nil, err
	}
	defer stack.Close()
	principal := func(user string) domain.Principal {
		return domain.Principal{OrgID: org, UserID: domain.UserID(user), Scopes: domain.DefaultUserScopes, ClientID: "eval"}
	}
	toEval := map[domain.MemoryID]string{}
	for _, m := range mems {
		stored, _, err := stack.Memories.Add(ctx, principal(m.User), app.AddInput{Text: m.Text})
		if err != nil {
			return nil, fmt.Errorf("eval: add %s: %w", m.ID, err)
		}
		toEval[stored.ID] = m.ID
	}
	var scores []evalScores
	for _, mode := range []domain.SearchMode{domain.SearchHybrid, domain.SearchLexical, domain.SearchVector} {
		s := evalScores{Mode: mode}
		for _, q := range queries {
			res, err := stack.Search.Search(ctx, principal(q.User), app.SearchRequest{Query: q.Query, Limit: 10, Mode: mode, Weights: &w}, "eval")
			if err != nil {
				return nil, fmt.Errorf("eval: %s search %q: %w", mode, q.Query, err)
			}
			ranked := make([]string, len(res.Results))
			for i, h := range res.Results {
				ranked[i] = toEval[h.Memory.ID]
			}
			m := rankMetrics(ranked, q.Relevant)
			s.add(q, m)
			if m.R10 == 0 && mode == showMisses {
				fmt.Fprintf(out, "miss %s [%s]: %q wants %v, got %v\n", mode, q.Type, q.Query, q.Relevant, ranked[:min(3, len(ranked))])
			}
		}
		s.finish()
		scores = append(scores, s)
	}
	return scores, nil
}

func readJSONL(path string, each func(*json.Decoder) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	for dec.More() {
		if err := each(dec); err != nil {
			return fmt.Errorf("eval: %s: %w", path, err)
		}
	}
	return nil
}
