package sqlitestore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// readConv returns the texts of testdata/conv's turns and its questions:
// natural-language questions of 6-15 words, full of common words, over
// chat turns made of the same everyday words.
func readConv(b *testing.B) (turns, questions []string) {
	for _, f := range []struct {
		name, field string
		into        *[]string
	}{{"memories.jsonl", "text", &turns}, {"queries.jsonl", "query", &questions}} {
		fh, err := os.Open(filepath.Join("..", "..", "testdata", "conv", f.name))
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				b.Fatal(err)
			}
			*f.into = append(*f.into, m[f.field].(string))
		}
		_ = fh.Close()
	}
	return turns, questions
}

// BenchmarkTextSearchQuestions searches one user's n memories (another
// user holds as many) with testdata/conv's questions. Memories are the
// set's 1,200 turns over and over, each with one rare word of its own.
func BenchmarkTextSearchQuestions(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("memories=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(b.TempDir(), "engram.db")})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			x := s.TextIndex()
			turns, questions := readConv(b)
			me := domain.Tenant{OrgID: "o", UserID: "me"}
			for _, t := range []domain.Tenant{me, {OrgID: "o", UserID: "other"}} {
				for start := 0; start < n; start += 500 {
					docs := make([]ports.TextDoc, min(500, n-start))
					for i := range docs {
						j := start + i
						docs[i] = ports.TextDoc{ID: domain.NewMemoryID(time.Now()), AppID: "a", CreatedAt: time.Now(),
							Text: fmt.Sprintf("%s r%dz", turns[j%len(turns)], j)}
					}
					if err := x.Index(ctx, t, docs); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if _, err := x.Search(ctx, me, questions[i%len(questions)], 50, domain.SearchFilter{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
