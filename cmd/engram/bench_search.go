package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/loadgen"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("bench-search", command{
		summary: "search: ingest with indexing, then hybrid/lexical/vector p50/p95/p99 at concurrency 1 and 8",
		run:     runBenchSearch,
	})
}

// runBenchSearch loads one user with --user-memories memories among --total
// in all (the rest spread over other users of other orgs), measuring ingest
// with indexing, then searches that user in each mode. Everything goes
// through the app layer (SearchService and Indexer), the HTTP stack is not
// included.
func runBenchSearch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	userN := fs.Int("user-memories", 10_000, "memories of the searched user")
	total := fs.Int("total", 100_000, "memories in the store in all")
	perUser := fs.Int("per-other-user", 1000, "memories per other user")
	dur := fs.Duration("duration", 5*time.Second, "duration of each search measurement")
	pgURL := fs.String("postgres-url", "", "benchmark the Postgres profile at this URL (a throwaway database!)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	encryption := fs.String("encryption", "off", "encryption at rest: on, off, or both (the whole run twice, off then on, side by side)")
	cacheBytes := fs.Int64("vector-cache-bytes", 0, "keep the in-process vectors to this budget (ENGRAM_VECTOR_CACHE_BYTES): only searched users are paged in")
	hybridOnly := fs.Bool("hybrid-only", false, "measure hybrid search at concurrency 1 only")
	conv := fs.String("conv", "", "directory of a conversational set (testdata/conv): memories are its turns, queries its natural-language questions, instead of 3-word queries over a synthetic vocabulary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *total < *userN {
		return fmt.Errorf("bench-search: --total must be at least --user-memories")
	}
	encs := []string{*encryption}
	if *encryption == "both" {
		encs = []string{"off", "on"}
	}
	modes := []domain.SearchMode{domain.SearchHybrid, domain.SearchLexical, domain.SearchVector}
	concs := []int{1, 8}
	if *hybridOnly {
		modes, concs = modes[:1], concs[:1]
	}
	gen := newTextGen(7)
	if *conv != "" {
		if err := gen.useConv(*conv); err != nil {
			return err
		}
	}
	// Every store is loaded before any is searched, and the searches of
	// the stores alternate in rounds (off, on, on, off, …): on a shared
	// machine a burst of other work, or the heap the first load left,
	// falls on both sides alike rather than on whichever runs second.
	var stacks []*benchStack
	defer func() {
		for _, st := range stacks {
			st.close()
		}
	}()
	for _, enc := range encs {
		st, err := openBenchStack(ctx, enc, *pgURL, *cacheBytes)
		if err != nil {
			return err
		}
		stacks = append(stacks, st)
		fmt.Fprintf(stdout, "bench search: %s, GOMAXPROCS=%d, store %s, encryption %s, %d memories for the user among %d\n",
			cpuModel(), runtimeProcs(), st.b.Name, enc, *userN, *total)
		if err := st.load(ctx, gen, *userN, *total, *perUser, stdout); err != nil {
			return err
		}
	}
	rounds := 1
	if len(stacks) > 1 {
		rounds = benchRounds
	}
	p := domain.Principal{OrgID: benchTarget.OrgID, UserID: benchTarget.UserID, Scopes: domain.DefaultUserScopes, ClientID: "bench"}
	for _, mode := range modes {
		for _, c := range concs {
			per := make([][]loadgen.Result, len(stacks))
			for r := range rounds {
				for k := range stacks {
					i := k
					if r%2 == 1 {
						i = len(stacks) - 1 - k // ABBA: each side goes first as often
					}
					st := stacks[i]
					res := loadgen.Run(ctx, fmt.Sprintf("search %s enc=%s", mode, st.enc), c, *dur/time.Duration(rounds), 0, func(ctx context.Context, w, n int) error {
						q := gen.query(uint64(w)<<32 | uint64(n))
						_, err := st.stack.Search.Search(ctx, p, app.SearchRequest{Query: q, Limit: 10, Mode: mode}, "bench")
						return err
					})
					per[i] = append(per[i], res)
				}
			}
			for i := range stacks {
				for _, r := range per[i] {
					fmt.Fprintln(stdout, r)
				}
			}
			if len(stacks) > 1 {
				off, on := medianOf(per[0]), medianOf(per[1])
				fmt.Fprintf(stdout, "search %s c=%d over %d alternating rounds, median of the rounds: off p50 %s p95 %s, on p50 %s p95 %s: on/off p50 %+.1f %%, p95 %+.1f %%\n",
					mode, c, rounds, off.P50.Round(10*time.Microsecond), off.P95.Round(10*time.Microsecond),
					on.P50.Round(10*time.Microsecond), on.P95.Round(10*time.Microsecond),
					100*(float64(on.P50)/float64(off.P50)-1), 100*(float64(on.P95)/float64(off.P95)-1))
			}
		}
	}
	return nil
}

// benchRounds is how many rounds the searches of `--encryption both`
// alternate in; each round runs for --duration / benchRounds.
const benchRounds = 6

var benchTarget = domain.Tenant{OrgID: "bench-org", UserID: "bench-user"}

// benchStack is one store with its search stack, in a directory of its
// own that close removes.
type benchStack struct {
	enc    string
	dir    string
	b      wiring.Backend
	search wiring.Search
	stack  wiring.Core
	opened int // what close must undo: 1 store, 2 search, 3 core
}

func openBenchStack(ctx context.Context, enc, pgURL string, cacheBytes int64) (*benchStack, error) {
	dir, err := os.MkdirTemp("", "engram-bench-search-")
	if err != nil {
		return nil, err
	}
	st := &benchStack{enc: enc, dir: dir}
	// Only what the flags say: a benchmark must never pick up the
	// environment's production database.
	env := map[string]string{"ENGRAM_DATA_DIR": dir, "ENGRAM_POSTGRES_URL": pgURL, "ENGRAM_ENCRYPTION": enc,
		"ENGRAM_VECTOR_CACHE_BYTES": fmt.Sprint(cacheBytes)}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err == nil {
		if st.b, err = wiring.OpenStore(ctx, cfg, slog.New(slog.DiscardHandler)); err == nil {
			st.opened = 1
		}
	}
	if err == nil {
		if st.search, err = wiring.OpenSearch(ctx, cfg, st.b); err == nil {
			st.opened = 2
		}
	}
	if err == nil {
		if st.stack, err = wiring.NewCore(ctx, st.b, st.search, wiring.CoreOptions{}); err == nil {
			st.opened = 3
		}
	}
	if err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

func (st *benchStack) close() {
	if st.opened >= 3 {
		st.stack.Close()
	}
	if st.opened >= 2 {
		st.search.Close()
	}
	if st.opened >= 1 {
		_ = st.b.Close()
	}
	_ = os.RemoveAll(st.dir)
}

// load writes userN memories for the searched user and the rest of total
// for other users of other orgs, measuring ingest with indexing.
func (st *benchStack) load(ctx context.Context, gen *textGen, userN, total, perUser int, stdout io.Writer) error {
	start := time.Now()
	n, err := benchIngest(ctx, st.b.Memories, st.stack.Indexer, benchTarget, userN, gen)
	if err != nil {
		return err
	}
	for u := 0; n < total; u++ {
		t := domain.Tenant{OrgID: domain.OrgID(fmt.Sprintf("org-%d", u%50)), UserID: domain.UserID(fmt.Sprintf("user-%d", u))}
		k, err := benchIngest(ctx, st.b.Memories, st.stack.Indexer, t, min(perUser, total-n), gen)
		if err != nil {
			return err
		}
		n += k
	}
	el := time.Since(start)
	if st.b.Name == "postgres" {
		// What autovacuum would do shortly after a bulk load; without fresh
		// statistics the planner misjudges the GIN and tenant indexes.
		if _, err := st.b.DB.ExecContext(ctx, `ANALYZE memories; ANALYZE memory_search`); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "ingest with indexing (text + embed + vector), encryption %s: %d memories in %s = %.0f/s\n", st.enc, n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	return nil
}

// medianOf is the round whose p95 is the median of the rounds' (the lower
// middle one of an even count).
func medianOf(rs []loadgen.Result) loadgen.Result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b loadgen.Result) int { return cmp.Compare(a.P95, b.P95) })
	return s[(len(s)-1)/2]
}

// benchIngest writes n memories for t in batches through the store and the
// indexer, the path a bulk import takes, pipelined: batch i is indexed while
// batch i+1 is written (SQLite has one writer; embedding needs the CPU).
func benchIngest(ctx context.Context, st ports.MemoryStore, ix *app.Indexer, t domain.Tenant, n int, gen *textGen) (int, error) {
	const batch = 500
	now := time.Now()
	written := make(chan []domain.MemoryID, 2)
	indexErr := make(chan error, 1)
	go func() {
		var first error
		for ids := range written {
			if first == nil {
				first = ix.Sync(ctx, t, ids)
			}
		}
		indexErr <- first
	}()
	done := 0
	var err error
	for done < n && err == nil {
		size := min(batch, n-done)
		ms := make([]domain.Memory, size)
		ids := make([]domain.MemoryID, size)
		for i := range ms {
			var m domain.Memory
			if m, err = domain.NewMemory(t, "bench", gen.text(), nil, nil, now); err != nil {
				break
			}
			ms[i], ids[i] = m, m.ID
		}
		if err == nil {
			if _, err = st.CreateBatch(ctx, t, ms); err == nil {
				written <- ids
				done += size
			}
		}
	}
	close(written)
	if ierr := <-indexErr; err == nil {
		err = ierr
	}
	return done, err
}

// textGen makes memory-like sentences over a Zipf-distributed vocabulary,
// so common words have long posting lists as in real text.
type textGen struct {
	r     *rand.Rand
	words []string
	zipf  *rand.Zipf
	// turns and questions, when set (useConv), replace the synthetic
	// sentences and queries.
	turns, questions []string
	next             int
}

// useConv makes memories of a conversational set's turns (in order, over
// and over, each with a number of its own) and queries of its questions.
func (g *textGen) useConv(dir string) error {
	for _, f := range []struct {
		name, field string
		into        *[]string
	}{{"memories.jsonl", "text", &g.turns}, {"queries.jsonl", "query", &g.questions}} {
		err := readJSONL(filepath.Join(dir, f.name), func(dec *json.Decoder) error {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				return err
			}
			s, _ := m[f.field].(string)
			*f.into = append(*f.into, s)
			return nil
		})
		if err != nil {
			return fmt.Errorf("bench search: --conv: %w", err)
		}
	}
	return nil
}

func newTextGen(seed uint64) *textGen {
	r := rand.New(rand.NewPCG(seed, seed+1))
	syl := strings.Fields("ka lo mi ne ru sa ti po fe da vi ol an er in us ta re mo li")
	words := make([]string, 20000)
	for i := range words {
		var b strings.Builder
		for range 2 + i%3 {
			b.WriteString(syl[r.IntN(len(syl))])
		}
		words[i] = b.String()
	}
	return &textGen{r: r, words: words, zipf: rand.NewZipf(r, 1.1, 2, uint64(len(words)-1))}
}

func (g *textGen) text() string {
	if len(g.turns) > 0 {
		g.next++
		return fmt.Sprintf("%s %d", g.turns[g.next%len(g.turns)], g.r.Uint64())
	}
	n := 8 + g.r.IntN(16)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.words[g.zipf.Uint64()]
	}
	return strings.Join(parts, " ") + fmt.Sprintf(" %d", g.r.Uint64())
}

// query draws 3 words deterministically from i, without touching the shared
// generator (queries run concurrently).
func (g *textGen) query(i uint64) string {
	if len(g.questions) > 0 {
		return g.questions[i%uint64(len(g.questions))]
	}
	r := rand.New(rand.NewPCG(i, 99))
	z := rand.NewZipf(r, 1.1, 2, uint64(len(g.words)-1))
	return g.words[z.Uint64()] + " " + g.words[z.Uint64()] + " " + g.words[z.Uint64()]
}
