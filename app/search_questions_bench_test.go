package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkSearchQuestions runs testdata/conv's questions (6-15 words)
// against one user's 1,200 chat turns on the embedded profile, hybrid with
// issue 14's fusion and with plain weighted RRF (trust 1, no fallback), so
// the cost of the fusion is measured side by side in one run; and hybrid
// with the entity graph linked, with and without the entity ranking
// (issue 18), for its cost.
func BenchmarkSearchQuestions(b *testing.B) {
	e := newSearchEnv(b)
	ctx := context.Background()
	read := func(name, field string) []string {
		f, err := os.Open(filepath.Join("..", "testdata", "conv", name))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		var out []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				b.Fatal(err)
			}
			out = append(out, m[field].(string))
		}
		return out
	}
	turns, questions := read("memories.jsonl", "text"), read("queries.jsonl", "query")
	tn := sAlice.Tenant()
	ms := make([]domain.Memory, len(turns))
	ids := make([]domain.MemoryID, len(turns))
	for i, text := range turns {
		m, err := domain.NewMemory(tn, "bench", text, nil, nil, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		ms[i], ids[i] = m, m.ID
	}
	if _, err := e.store.CreateBatch(ctx, tn, ms); err != nil {
		b.Fatal(err)
	}
	if err := e.indexer.Sync(ctx, tn, ids); err != nil {
		b.Fatal(err)
	}
	linker := &app.EntityLinker{Memories: e.store, Entities: e.store}
	if err := linker.MemoriesChanged(ctx, tn, ids); err != nil {
		b.Fatal(err)
	}
	withEntities := app.NewSearchService(app.SearchDeps{Memories: e.store, Text: e.store.TextIndex(), Vectors: e.vectors, Embedder: e.embed, Entities: e.store})
	plain := app.NewSearchService(app.SearchDeps{Memories: e.store, Text: e.store.TextIndex(), Vectors: e.vectors, Embedder: e.embed,
		VectorTrust: 1, PinGap: -1, GapBoost: -1})
	noEntity := domain.Weights{Lexical: 1, Vector: 1}
	for _, c := range []struct {
		name string
		svc  *app.SearchService
		mode domain.SearchMode
		w    *domain.Weights
	}{{"hybrid-fusion=issue14", e.search, domain.SearchHybrid, nil}, {"hybrid-fusion=plain-rrf", plain, domain.SearchHybrid, nil},
		{"hybrid-entity=off", withEntities, domain.SearchHybrid, &noEntity}, {"hybrid-entity=on", withEntities, domain.SearchHybrid, nil},
		{"lexical", e.search, domain.SearchLexical, nil}, {"vector", e.search, domain.SearchVector, nil}} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := c.svc.Search(ctx, sAlice, app.SearchRequest{Query: questions[i%len(questions)], Mode: c.mode, Weights: c.w}, ""); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
