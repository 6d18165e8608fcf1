package inproc

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestDotMatchesGeneric checks the platform dot product (AVX2 on amd64)
// against the portable one for every length around the unrolling steps.
func TestDotMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 70; n++ {
		a, b := make([]float32, n), make([]float32, n+3) // b longer: only len(a) counts
		var want float64
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			want += float64(a[i]) * float64(b[i])
		}
		b[n], b[n+1], b[n+2] = 1e9, 1e9, 1e9
		for name, got := range map[string]float32{"dot": dot(a, b), "generic": dotGeneric(a, b)} {
			if math.Abs(float64(got)-want) > 1e-4*max(1, math.Abs(want)) {
				t.Fatalf("%s len %d: got %v want %v", name, n, got, want)
			}
		}
	}
}

func BenchmarkDotGeneric384(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	a, c := randomUnit(r, benchDim), randomUnit(r, benchDim)
	var sink float32
	for b.Loop() {
		sink += dotGeneric(a, c)
	}
	_ = sink
}

func TestDotI8MatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for n := 0; n <= 100; n++ {
		a, b := make([]int8, n), make([]int16, n+5)
		var want int32
		for i := range a {
			a[i], b[i] = int8(r.IntN(255)-127), int16(r.IntN(255)-127)
			want += int32(a[i]) * int32(b[i])
		}
		if got := dotI8(a, b); got != want {
			t.Fatalf("len %d: got %d want %d", n, got, want)
		}
		if got := dotI8Generic(a, b); got != want {
			t.Fatalf("generic len %d: got %d want %d", n, got, want)
		}
	}
}

// TestQuantizedRecall compares the int8 first pass with the exact scan on
// 20k random unit vectors: the top 10 must agree almost always, and returned
// scores are exact cosines.
func TestQuantizedRecall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two 20k-row indexes")
	}
	ctx := context.Background()
	r := rand.New(rand.NewPCG(11, 12))
	quant, exact := NewVectorIndex(), NewVectorIndexWith(VectorOptions{Exact: true})
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	for _, x := range []*VectorIndex{quant, exact} {
		if err := x.Bind(ctx, ports.VectorSpace{Model: "m", Dimension: 128}); err != nil {
			t.Fatal(err)
		}
	}
	docs := make([]ports.VectorDoc, 20000)
	for i := range docs {
		docs[i] = ports.VectorDoc{ID: domain.NewMemoryID(time.Now()), Vector: randomUnit(r, 128)}
	}
	for _, x := range []*VectorIndex{quant, exact} {
		if err := x.Upsert(ctx, tn, docs); err != nil {
			t.Fatal(err)
		}
	}
	found, total := 0, 0
	for range 50 {
		q := randomUnit(r, 128)
		a, err := quant.Search(ctx, tn, q, 10, domain.SearchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := exact.Search(ctx, tn, q, 10, domain.SearchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[domain.MemoryID]float64{}
		for _, h := range b {
			want[h.ID] = h.Score
		}
		for _, h := range a {
			if s, ok := want[h.ID]; ok {
				found++
				if math.Abs(s-h.Score) > 1e-6 {
					t.Fatalf("re-scored score %v differs from exact %v", h.Score, s)
				}
			}
		}
		total += len(b)
	}
	if recall := float64(found) / float64(total); recall < 0.98 {
		t.Fatalf("recall@10 of the quantised pass is %.3f", recall)
	}
}

// TestDotI8PairMatchesTwoDots: the fused kernel of SearchEach's two-query
// scan gives exactly each query's dotI8, for every length around the
// unrolling steps and the extremes of int8 and of a quantised query.
func TestDotI8PairMatchesTwoDots(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for n := 0; n <= 100; n++ {
		a, b, c := make([]int8, n), make([]int16, n+2), make([]int16, n+2)
		for i := range a {
			a[i], b[i], c[i] = int8(r.IntN(256)-128), int16(r.IntN(255)-127), int16(r.IntN(255)-127)
			if n%7 == 0 {
				a[i], b[i], c[i] = -128, -127, 127
			}
		}
		s1, s2 := dotI8Pair(a, b, c)
		if w1, w2 := dotI8Generic(a, b), dotI8Generic(a, c); s1 != w1 || s2 != w2 {
			t.Fatalf("len %d: got %d, %d want %d, %d", n, s1, s2, w1, w2)
		}
	}
}

// TestTopKKeepsTheBest: whatever the order of offers, topK keeps the k
// best candidates by score, then smaller id, ties included (scores are
// drawn from a few values).
func TestTopKKeepsTheBest(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for round := range 200 {
		n, k := 1+r.IntN(300), 1+r.IntN(40)
		ids := make([]domain.MemoryID, n)
		cs := make([]candidate, n)
		for i := range cs {
			ids[i] = domain.MemoryID(fmt.Sprintf("m%05d", r.IntN(1_000_000)*n+i))
			cs[i] = candidate{row: i, score: float32(r.IntN(5 + round%20))}
		}
		tk := &topK{k: k, ids: ids}
		for _, c := range cs {
			tk.offerScore(c.row, c.score)
		}
		want := append([]candidate(nil), cs...)
		sort.Slice(want, func(i, j int) bool {
			if want[i].score != want[j].score {
				return want[i].score > want[j].score
			}
			return ids[want[i].row] < ids[want[j].row]
		})
		if got := tk.sorted(); !slices.Equal(got, want[:min(k, n)]) {
			t.Fatalf("round %d: got %v want %v", round, got, want[:min(k, n)])
		}
	}
}
