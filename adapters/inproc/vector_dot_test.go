package inproc

import (
	"math"
	"math/rand/v2"
	"testing"
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
