package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("tune-fusion", command{
		summary: "replay logged searches with their feedback over a grid of RRF k and lexical/vector weights; report the best setting",
		run:     runTuneFusion,
	})
}

// runTuneFusion replays an org's logged searches through the current
// indexes, scores every grid setting by how often an accepted memory lands
// in the top k, prints the best beside the current setting and, with
// --create-experiment, stores a draft experiment that puts them head to head.
func runTuneFusion(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tune-fusion", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url", "embedder", "embed-url", "embed-model")
	org := fs.String("org", "", "org whose searches to replay (required)")
	since := fs.Duration("since", 30*24*time.Hour, "replay searches and feedback of this recent period")
	topK := fs.Int("top-k", 5, "score: an accepted memory within the first k results")
	ks := fs.String("k", "10,20,40,60,100", "RRF k values to try")
	weights := fs.String("weights", "0,0.5,1,2,3", "lexical and vector weights to try (crossed)")
	curK := fs.Int("current-k", domain.DefaultRRFK, "the RRF k search uses today")
	curLex := fs.Float64("current-lexical", domain.DefaultWeights.Lexical, "the lexical weight search uses today")
	curVec := fs.Float64("current-vector", domain.DefaultWeights.Vector, "the vector weight search uses today")
	entWeights := fs.String("entity-weights", "0,0.5,1,1.5,2,3", "entity ranking weights to try (crossed with the others)")
	curEnt := fs.Float64("current-entity", domain.DefaultWeights.Entity, "the entity ranking weight search uses today")
	create := fs.String("create-experiment", "", "store a draft experiment with this name: control = current, tuned = best")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	trust := fs.Float64("vector-trust", 0, "multiplier of the hybrid vector weight on questions (0: the embedder's default)")
	short := fs.Int("short-query", app.DefaultShortQuery, "queries of at most this many words fuse at full vector weight (negative: none)")
	gap := fs.Float64("gap-boost", app.DefaultGapBoost, "per-query weight shift toward the ranking whose first hit stands out (negative: off)")
	pin := fs.Float64("pin-gap", app.DefaultPinGap, "confidence at which a ranking keeps its first hit first when the other is unsure (negative: off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("tune-fusion: unexpected argument %q", fs.Arg(0))
	}
	if *org == "" {
		return fmt.Errorf("tune-fusion: --org is required")
	}
	kList, err := parseList(*ks, "k", func(s string) (int, error) { return strconv.Atoi(s) })
	if err != nil {
		return err
	}
	wList, err := parseList(*weights, "weights", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	if err != nil {
		return err
	}
	eList, err := parseList(*entWeights, "entity-weights", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	if err != nil {
		return err
	}
	current := domain.SearchParams{RRFK: *curK, Weights: domain.Weights{Lexical: *curLex, Vector: *curVec, Entity: *curEnt}}
	if err := current.Validate(); err != nil {
		return fmt.Errorf("tune-fusion: current setting: %w", err)
	}

	cfg, err := loadCommandConfig(cc)
	if err != nil {
		return fmt.Errorf("tune-fusion: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := wiring.OpenStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("tune-fusion: %w", err)
	}
	defer b.Close()
	s, err := wiring.OpenSearch(ctx, cfg, b)
	if err != nil {
		return fmt.Errorf("tune-fusion: %w", err)
	}
	defer s.Close()
	// The replay searches the indexes as they are: fill the in-process
	// vectors from the store first, as engramd does at start.
	core, err := wiring.NewCore(ctx, b, s, wiring.CoreOptions{Load: true, Logger: log,
		Tune: app.SearchDeps{VectorTrust: *trust, ShortQuery: *short, GapBoost: *gap, PinGap: *pin}})
	if err != nil {
		return fmt.Errorf("tune-fusion: %w", err)
	}
	defer core.Close()
	rep, err := app.NewFusionTuner(core.Search, b.Feedback, b.QueryLog).Tune(ctx, app.TuneInput{
		Org: domain.OrgID(*org), Since: time.Now().Add(-*since), TopK: *topK, Ks: kList, Weights: wList, EntityWeights: eList, Current: current,
	})
	if err != nil {
		return fmt.Errorf("tune-fusion: %w", err)
	}
	var created *domain.Experiment
	if *create != "" && rep.Replayed > 0 {
		e, err := createTunedExperiment(ctx, b.Experiments, domain.OrgID(*org), *create, rep)
		if err != nil {
			return fmt.Errorf("tune-fusion: %w", err)
		}
		created = &e
	}
	if *asJSON {
		return printTuneJSON(stdout, rep, created)
	}
	printTune(stdout, rep, created)
	return nil
}

func parseList[T any](raw, name string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, part := range strings.Split(raw, ",") {
		v, err := parse(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("tune-fusion: --%s: %q is not a number", name, part)
		}
		out = append(out, v)
	}
	return out, nil
}

// createTunedExperiment stores a draft: control keeps today's setting, tuned
// takes the best one, half the traffic each. An operator starts it.
func createTunedExperiment(ctx context.Context, st ports.ExperimentStore, org domain.OrgID, name string, rep app.TuneReport) (domain.Experiment, error) {
	variant := func(n string, p app.TunePoint) domain.Variant {
		return domain.Variant{Name: n, Weight: 1, Params: domain.SearchParams{RRFK: p.RRFK, Weights: p.Weights}}
	}
	desc := fmt.Sprintf("from engram tune-fusion over %d searches: accepted in top %d %.1f%% (tuned) vs %.1f%% (control)",
		rep.Replayed, rep.TopK, 100*rep.Best.Rate, 100*rep.Current.Rate)
	e, err := domain.NewExperiment(org, "engram-tune-fusion", name, desc,
		[]domain.Variant{variant("control", rep.Current), variant("tuned", rep.Best)}, time.Now().UTC())
	if err != nil {
		return domain.Experiment{}, err
	}
	return st.CreateExperiment(ctx, org, e)
}

func printTune(w io.Writer, rep app.TuneReport, created *domain.Experiment) {
	fmt.Fprintf(w, "replayed %d searches with accepted feedback (%d skipped); score = accepted memory in the top %d\n\n", rep.Replayed, rep.Skipped, rep.TopK)
	fmt.Fprintf(w, "%-8s %6s %8s %8s %8s %8s %8s\n", "setting", "rrf_k", "lexical", "vector", "entity", "hit@k", "mrr")
	for _, row := range []struct {
		name string
		p    app.TunePoint
	}{{"current", rep.Current}, {"best", rep.Best}} {
		fmt.Fprintf(w, "%-8s %6d %8.2f %8.2f %8.2f %7.1f%% %8.3f\n", row.name, row.p.RRFK, row.p.Weights.Lexical, row.p.Weights.Vector, row.p.Weights.Entity, 100*row.p.Rate, row.p.MRR)
	}
	if rep.Replayed == 0 {
		fmt.Fprintln(w, "\nno logged search has accepted feedback naming a memory in this period: nothing to tune")
	}
	if created != nil {
		fmt.Fprintf(w, "\ncreated draft experiment %s (%q): start it with POST /api/v1/experiments/%s/start\n", created.ID, created.Name, created.ID)
	}
}

type tunePointJSON struct {
	RRFK    int     `json:"rrf_k"`
	Lexical float64 `json:"lexical_weight"`
	Vector  float64 `json:"vector_weight"`
	Entity  float64 `json:"entity_weight"`
	Hits    int     `json:"hits"`
	Rate    float64 `json:"hit_rate"`
	MRR     float64 `json:"mrr"`
}

func printTuneJSON(w io.Writer, rep app.TuneReport, created *domain.Experiment) error {
	pj := func(p app.TunePoint) tunePointJSON {
		return tunePointJSON{RRFK: p.RRFK, Lexical: p.Weights.Lexical, Vector: p.Weights.Vector, Entity: p.Weights.Entity, Hits: p.Hits, Rate: p.Rate, MRR: p.MRR}
	}
	out := map[string]any{"replayed": rep.Replayed, "skipped": rep.Skipped, "top_k": rep.TopK, "current": pj(rep.Current), "best": pj(rep.Best)}
	if created != nil {
		out["experiment_id"] = created.ID
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
