package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// benchCorpus makes synthetic text with a natural word-frequency shape: a
// vocabulary of pseudo-words whose use follows Zipf's law, as in real text,
// so that a few words are in many memories and most in few. Queries are two
// words drawn uniformly from ranks 50 and up: content words, not the
// stopword-like head that a text index would barely discriminate on. A fixed
// seed makes runs comparable.
type benchCorpus struct {
	r     *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

const benchVocab = 8000

func newBenchCorpus() *benchCorpus {
	r := rand.New(rand.NewPCG(1, 2))
	syll := strings.Fields("ka lo mi ne ru sa to vi be da fe gu ho ji ku la ma no pe ri su te wa yo zu")
	seen := map[string]bool{}
	vocab := make([]string, 0, benchVocab)
	for len(vocab) < benchVocab {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(syll[r.IntN(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			vocab = append(vocab, w)
		}
	}
	return &benchCorpus{r: r, zipf: rand.NewZipf(r, 1.07, 1, benchVocab-1), vocab: vocab}
}

// sentence is 8-12 Zipf-drawn words plus a unique tag (no two memories are
// exact duplicates, which the store would merge).
func (c *benchCorpus) sentence(n int) string {
	k := 8 + c.r.IntN(5)
	parts := make([]string, 0, k+2)
	for range k {
		parts = append(parts, c.vocab[c.zipf.Uint64()])
	}
	return strings.Join(parts, " ") + fmt.Sprintf(" note%d", n)
}

func (c *benchCorpus) query() string {
	return c.vocab[50+c.r.IntN(benchVocab-50)] + " " + c.vocab[50+c.r.IntN(benchVocab-50)]
}

// benchContext loads the memories into SQLite with its FTS5 index (the
// embedded profile), fills one Valkey session, and times
// SessionService.Context with the TextFinder.
func benchContext(ctx context.Context, caches wiring.Caches, f benchSessionsFlags, w io.Writer) error {
	vs := caches.Sessions
	dir, err := os.MkdirTemp("", "engram-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := config.Load(nil, func(k string) string { return map[string]string{"ENGRAM_DATA_DIR": dir}[k] })
	if err != nil {
		return err
	}
	st, err := wiring.OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	p := domain.Principal{OrgID: "bench", UserID: "ctx", Scopes: domain.DefaultUserScopes, ClientID: "bench"}
	text := st.Text
	corpus := newBenchCorpus()

	start := time.Now()
	const chunk = 1000
	for i := 0; i < f.memories; i += chunk {
		ms := make([]domain.Memory, 0, chunk)
		docs := make([]ports.TextDoc, 0, chunk)
		now := time.Now()
		for j := i; j < min(i+chunk, f.memories); j++ {
			m, err := domain.NewMemory(p.Tenant(), "bench", corpus.sentence(j), nil, nil, now)
			if err != nil {
				return err
			}
			ms = append(ms, m)
			docs = append(docs, ports.TextDoc{ID: m.ID, Text: m.Text, AppID: m.AppID, CreatedAt: m.CreatedAt})
		}
		if _, err := st.Memories.CreateBatch(ctx, p.Tenant(), ms); err != nil {
			return err
		}
		if err := text.Index(ctx, p.Tenant(), docs); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "context assembly: loaded %d memories into SQLite+FTS5 in %s\n", f.memories, time.Since(start).Round(time.Millisecond))

	const sid = "ctx-session"
	evs := make([]domain.SessionEvent, 0, f.sessionEvents)
	base := time.Now().Add(-time.Duration(f.sessionEvents) * time.Second)
	for i := range f.sessionEvents {
		role := domain.RoleUser
		if i%2 == 1 {
			role = domain.RoleAssistant
		}
		at := base.Add(time.Duration(i) * time.Second)
		evs = append(evs, domain.SessionEvent{ID: domain.NewID(at), Role: role, Text: corpus.sentence(i), CreatedAt: at})
	}
	for i := 0; i < len(evs); i += 100 {
		if err := caches.Admin.AppendBatch(ctx, p.Tenant(), sid, evs[i:min(i+100, len(evs))]); err != nil {
			return err
		}
	}

	mem := app.NewMemoryService(app.MemoryDeps{Memories: st.Memories, Apps: st.Apps, Access: st.Access})
	svc := app.NewSessionService(app.SessionDeps{Sessions: vs, Memories: mem, Finder: app.TextFinder{Text: text, Memories: mem}})
	lat := make([]time.Duration, 0, f.contextRuns)
	found := 0
	for i := range f.contextRuns + 20 {
		q := corpus.query()
		t0 := time.Now()
		c, err := svc.Context(ctx, p, sid, app.ContextInput{Query: q})
		if err != nil {
			return err
		}
		if i >= 20 { // the first calls warm caches and connections
			lat = append(lat, time.Since(t0))
			found += len(c.Memories)
		}
	}
	// The same work in parts, to show where the time goes.
	finder := app.TextFinder{Text: text, Memories: mem}
	recentLat := make([]time.Duration, 0, f.contextRuns)
	findLat := make([]time.Duration, 0, f.contextRuns)
	for range f.contextRuns {
		t0 := time.Now()
		if _, err := vs.Recent(ctx, p.Tenant(), sid, domain.DefaultRecentEvents); err != nil {
			return err
		}
		t1 := time.Now()
		if _, err := finder.FindMemories(ctx, p, corpus.query(), app.DefaultContextMemories); err != nil {
			return err
		}
		recentLat, findLat = append(recentLat, t1.Sub(t0)), append(findLat, time.Since(t1))
	}
	st2 := summarize(lat)
	fmt.Fprintf(w, "context assembly: %d runs, session of %d events (20 returned), %d memories (Zipf text over %d words), %.1f memories returned on average\n",
		f.contextRuns, f.sessionEvents, f.memories, benchVocab, float64(found)/float64(f.contextRuns))
	fmt.Fprintf(w, "  p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  mean %.2f ms\n",
		ms(st2.p50), ms(st2.p95), ms(st2.p99), ms(st2.mean))
	for _, part := range []struct {
		name string
		lat  []time.Duration
	}{{"  of which: recent events (Valkey)", recentLat}, {"  of which: FTS5 search + load memories", findLat}} {
		sm := summarize(part.lat)
		fmt.Fprintf(w, "%-42s p50 %.2f ms  p95 %.2f ms  p99 %.2f ms\n", part.name, ms(sm.p50), ms(sm.p95), ms(sm.p99))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
