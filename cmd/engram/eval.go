package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

func init() {
	register("eval", command{
		summary: "search quality on a labelled set: recall@1/5/10 and NDCG@10 per mode",
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
}

// evalScores are means over the queries of one mode.
type evalScores struct {
	Mode                domain.SearchMode
	R1, R5, R10, NDCG10 float64
	Queries, Unanswered int
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "testdata/eval", "directory holding memories.jsonl and queries.jsonl")
	emb := fs.String("embedder", "local", "embedder: local or openai")
	embURL := fs.String("embed-url", os.Getenv("ENGRAM_EMBED_URL"), "OpenAI-compatible base URL ending in /v1 (openai embedder)")
	embModel := fs.String("embed-model", os.Getenv("ENGRAM_EMBED_MODEL"), "embedding model (openai embedder)")
	misses := fs.String("show-misses", "", "print the queries this mode (hybrid, lexical, vector) answers with nothing relevant in the top 10")
	rrfK := fs.Int("rrf-k", domain.DefaultRRFK, "k of reciprocal rank fusion")
	center := fs.Float64("centering", app.DefaultCentering, "share of the user's mean vector subtracted from vector queries (negative: off)")
	floor := fs.Float64("vector-floor", 0, "drop vector hits below this cosine similarity")
	lw := fs.Float64("lexical-weight", domain.DefaultWeights.Lexical, "hybrid weight of the lexical ranking")
	vw := fs.Float64("vector-weight", domain.DefaultWeights.Vector, "hybrid weight of the vector ranking")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := domain.Weights{Lexical: *lw, Vector: *vw}
	if err := w.Validate(); err != nil {
		return err
	}
	scores, err := evaluate(ctx, *dir, embedderConfig{Kind: *emb, URL: *embURL, Model: *embModel, APIKey: os.Getenv("ENGRAM_EMBED_API_KEY")}, w, domain.SearchMode(*misses), stdout, app.SearchDeps{RRFK: *rrfK, VectorFloor: *floor, Centering: *center})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-8s %9s %9s %9s %8s  (%d queries)\n", "mode", "recall@1", "recall@5", "recall@10", "ndcg@10", scores[0].Queries)
	for _, s := range scores {
		fmt.Fprintf(stdout, "%-8s %9.3f %9.3f %9.3f %8.3f\n", s.Mode, s.R1, s.R5, s.R10, s.NDCG10)
	}
	return nil
}

// evaluate ingests the set into a fresh embedded store through
// MemoryService (so the indexer runs as in production) and scores each mode.
func evaluate(ctx context.Context, dir string, ec embedderConfig, w domain.Weights, showMisses domain.SearchMode, out io.Writer, tune app.SearchDeps) ([]evalScores, error) {
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
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(tmp, "engram.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	stack, err := newSearchStackWith(ctx, st, ec, false, tune)
	if err != nil {
		return nil, err
	}
	defer stack.Memories.Close()
	principal := func(user string) domain.Principal {
		return domain.Principal{OrgID: "eval", UserID: domain.UserID(user), Scopes: domain.DefaultUserScopes, ClientID: "eval"}
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
		s := evalScores{Mode: mode, Queries: len(queries)}
		for _, q := range queries {
			res, err := stack.Search.Search(ctx, principal(q.User), app.SearchRequest{Query: q.Query, Limit: 10, Mode: mode, Weights: &w}, "eval")
			if err != nil {
				return nil, fmt.Errorf("eval: %s search %q: %w", mode, q.Query, err)
			}
			ranked := make([]string, len(res.Results))
			for i, h := range res.Results {
				ranked[i] = toEval[h.Memory.ID]
			}
			r1, r5, r10, ndcg := rankMetrics(ranked, q.Relevant)
			s.R1, s.R5, s.R10, s.NDCG10 = s.R1+r1, s.R5+r5, s.R10+r10, s.NDCG10+ndcg
			if r10 == 0 {
				s.Unanswered++
				if mode == showMisses {
					fmt.Fprintf(out, "miss %s: %q wants %v, got %v\n", mode, q.Query, q.Relevant, ranked[:min(3, len(ranked))])
				}
			}
		}
		n := float64(len(queries))
		s.R1, s.R5, s.R10, s.NDCG10 = s.R1/n, s.R5/n, s.R10/n, s.NDCG10/n
		scores = append(scores, s)
	}
	return scores, nil
}

// rankMetrics scores one ranking: recall at 1, 5 and 10 (share of the
// relevant ids found) and NDCG@10 with binary relevance.
func rankMetrics(ranked, relevant []string) (r1, r5, r10, ndcg float64) {
	rel := map[string]bool{}
	for _, id := range relevant {
		rel[id] = true
	}
	found := 0
	var dcg float64
	for i, id := range ranked {
		if i >= 10 {
			break
		}
		if rel[id] {
			found++
			dcg += 1 / math.Log2(float64(i+2))
		}
		recall := float64(found) / float64(len(rel))
		switch i {
		case 0:
			r1 = recall
		case 4:
			r5 = recall
		}
		r10 = recall
	}
	if len(ranked) < 5 {
		r5 = r10
	}
	if len(ranked) < 1 {
		r1 = 0
	}
	var ideal float64
	for i := range min(len(rel), 10) {
		ideal += 1 / math.Log2(float64(i+2))
	}
	if ideal > 0 {
		ndcg = dcg / ideal
	}
	return r1, r5, r10, ndcg
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
