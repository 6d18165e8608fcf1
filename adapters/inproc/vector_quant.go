package inproc

import "math"

// Quantised first pass. Each row is also kept as int8 with its own scale
// (v ≈ scale·q, scale = max|v|/127), a quarter of the float32 bytes. A search
// ranks every row by the int8 dot product — the scan is bound by memory
// bandwidth, so reading a quarter of the bytes is most of the win — keeps the
// best few times k, and re-scores those in float32, so returned scores are
// exact and the order is exact unless quantisation noise pushed a true top-k
// row below the candidate cut (rescoreFactor makes that rare; the recall
// test measures it).

// quantMinRows is the partition size from which the quantised pass is used;
// below it the float scan is already fast and exact.
const quantMinRows = 4096

// rescoreFactor: candidates re-scored in float32 per result asked for.
const rescoreFactor = 4

func quantize(v []float32, out []int8) float32 {
	var m float32
	for _, x := range v {
		m = max(m, float32(math.Abs(float64(x))))
	}
	if m == 0 {
		clear(out)
		return 0
	}
	scale := m / 127
	inv := 1 / scale
	for i, x := range v {
		out[i] = int8(math.Round(float64(x * inv)))
	}
	return scale
}

// quantizeQuery returns the query as int16 (the int8 values widened, the
// layout the AVX2 kernel multiplies with) and its scale.
func quantizeQuery(v []float32) ([]int16, float32) {
	q8 := make([]int8, len(v))
	scale := quantize(v, q8)
	q16 := make([]int16, len(v))
	for i, x := range q8 {
		q16[i] = int16(x)
	}
	return q16, scale
}

func dotI8Generic(a []int8, b []int16) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}
