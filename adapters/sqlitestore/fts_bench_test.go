package sqlitestore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkTextSearch20k searches one user's 20k memories (among 40k) with
// Zipf-distributed words, so common words have long posting lists.
func BenchmarkTextSearch20k(b *testing.B) {
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(b.TempDir(), "engram.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	x := s.TextIndex()
	r := rand.New(rand.NewPCG(1, 2))
	words := make([]string, 5000)
	for i := range words {
		words[i] = fmt.Sprintf("w%dx", i)
	}
	z := rand.NewZipf(r, 1.1, 2, uint64(len(words)-1))
	sentence := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = words[z.Uint64()]
		}
		return strings.Join(parts, " ")
	}
	me := domain.Tenant{OrgID: "o", UserID: "me"}
	for _, t := range []domain.Tenant{me, {OrgID: "o", UserID: "other"}} {
		for range 40 {
			docs := make([]ports.TextDoc, 500)
			for i := range docs {
				docs[i] = ports.TextDoc{ID: domain.NewMemoryID(time.Now()), Text: sentence(15), AppID: "a", CreatedAt: time.Now()}
			}
			if err := x.Index(ctx, t, docs); err != nil {
				b.Fatal(err)
			}
		}
	}
	queries := make([]string, 64)
	for i := range queries {
		queries[i] = sentence(3)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := x.Search(ctx, me, queries[i%len(queries)], 50, domain.SearchFilter{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
