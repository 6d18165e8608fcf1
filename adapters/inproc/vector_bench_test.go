package inproc

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

const (
	benchRows = 100_000
	benchDim  = 384
)

func randomUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var n float32
	for i := range v {
		v[i] = float32(r.NormFloat64())
		n += v[i] * v[i]
	}
	inv := 1 / float32(sqrt64(float64(n)))
	for i := range v {
		v[i] *= inv
	}
	return v
}

func sqrt64(x float64) float64 {
	z := x
	for range 30 {
		z = (z + x/z) / 2
	}
	return z
}

func benchIndex(b *testing.B) (*VectorIndex, domain.Tenant, []float32) {
	return benchIndexWith(b, VectorOptions{Exact: true})
}

func benchIndexWith(b *testing.B, o VectorOptions) (*VectorIndex, domain.Tenant, []float32) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	x := NewVectorIndexWith(o)
	ctx := context.Background()
	if err := x.Bind(ctx, ports.VectorSpace{Model: "bench", Dimension: benchDim}); err != nil {
		b.Fatal(err)
	}
	t := domain.Tenant{OrgID: "o", UserID: "u"}
	docs := make([]ports.VectorDoc, 0, 1000)
	for i := range benchRows {
		docs = append(docs, ports.VectorDoc{ID: domain.NewMemoryID(time.Now()), Vector: randomUnit(r, benchDim), AppID: "a"})
		if len(docs) == cap(docs) || i == benchRows-1 {
			if err := x.Upsert(ctx, t, docs); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	return x, t, randomUnit(r, benchDim)
}

// BenchmarkExactScan100kx384 is one k=50 search over a 100k-row partition,
// using every CPU the runtime has (the scan splits across them).
func BenchmarkExactScan100kx384(b *testing.B) {
	x, t, q := benchIndex(b)
	ctx := context.Background()
	b.SetBytes(benchRows * benchDim * 4)
	for b.Loop() {
		if _, err := x.Search(ctx, t, q, 50, domain.SearchFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuantizedScan100kx384 is the default path: int8 first pass over
// every row, float32 re-score of the best 4k+16.
func BenchmarkQuantizedScan100kx384(b *testing.B) {
	x, t, q := benchIndexWith(b, VectorOptions{})
	ctx := context.Background()
	b.SetBytes(benchRows * benchDim)
	for b.Loop() {
		if _, err := x.Search(ctx, t, q, 50, domain.SearchFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExactScan100kx384OneCore is the same on one core, to compare with
// the single-threaded floor below.
func BenchmarkExactScan100kx384OneCore(b *testing.B) {
	x, t, q := benchIndex(b)
	ctx := context.Background()
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	b.SetBytes(benchRows * benchDim * 4)
	for b.Loop() {
		if _, err := x.Search(ctx, t, q, 50, domain.SearchFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryBandwidthFloor sums the same 100k×384 float32 slab with a
// plain loop on one core: the least work any exact scan must do (read every
// value once). A scan within 1.5× of it is bandwidth-bound.
func BenchmarkMemoryBandwidthFloor(b *testing.B) {
	x, t, _ := benchIndex(b)
	data := x.parts[t].data
	b.SetBytes(int64(len(data)) * 4)
	var sink float32
	for b.Loop() {
		var s0, s1, s2, s3 float32
		for i := 0; i+4 <= len(data); i += 4 {
			d := data[i : i+4 : i+4]
			s0 += d[0]
			s1 += d[1]
			s2 += d[2]
			s3 += d[3]
		}
		sink += s0 + s1 + s2 + s3
	}
	_ = sink
}

func BenchmarkDot384(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	a, c := randomUnit(r, benchDim), randomUnit(r, benchDim)
	var sink float32
	for b.Loop() {
		sink += dot(a, c)
	}
	_ = sink
}

// BenchmarkSIMDReadFloor streams the same slab once through the AVX2 kernel
// (dot of the slab with itself: one read per value, no per-row work). This is
// the memory-bandwidth floor a SIMD scan can reach on this machine; the plain
// loop above is compute-bound in Go and slower than the real floor.
func BenchmarkSIMDReadFloor(b *testing.B) {
	x, t, _ := benchIndex(b)
	data := x.parts[t].data
	b.SetBytes(int64(len(data)) * 4)
	var sink float32
	for b.Loop() {
		sink += dot(data, data)
	}
	_ = sink
}
