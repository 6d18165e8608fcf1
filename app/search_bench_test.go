package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkSearch measures one search per mode over 20k memories of one user
// on the embedded profile (SQLite FTS5, in-process vectors, local embedder).
func BenchmarkSearch(b *testing.B) {
	e := newSearchEnv(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	words := make([]string, 3000)
	for i := range words {
		words[i] = fmt.Sprintf("w%dq", i)
	}
	z := rand.NewZipf(r, 1.1, 2, uint64(len(words)-1))
	sentence := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = words[z.Uint64()]
		}
		return strings.Join(parts, " ")
	}
	tn := sAlice.Tenant()
	for range 40 {
		ms := make([]domain.Memory, 500)
		ids := make([]domain.MemoryID, len(ms))
		for i := range ms {
			m, err := domain.NewMemory(tn, "bench", sentence(14)+fmt.Sprint(r.Uint64()), nil, nil, time.Now())
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
	}
	for _, mode := range []domain.SearchMode{domain.SearchHybrid, domain.SearchLexical, domain.SearchVector} {
		b.Run(string(mode), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				q := words[i*7%len(words)] + " " + words[i*13%100] + " " + words[i%1000]
				if _, err := e.search.Search(ctx, sAlice, app.SearchRequest{Query: q, Mode: mode}, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
