package inproc

// dotI8AVX2 sums a[i]·b[i] over the first len(a)&^15 elements, widening a's
// int8 to int16 and multiplying pairs into int32 (VPMOVSXBW, VPMADDWD).
// Implemented in vector_quant_amd64.s.
//
//go:noescape
func dotI8AVX2(a []int8, b []int16) int32

func dotI8(a []int8, b []int16) int32 {
	if !useAVX2 || len(a) < 16 {
		return dotI8Generic(a, b)
	}
	b = b[:len(a)]
	n := len(a) &^ 15
	s := dotI8AVX2(a[:n], b[:n])
	for i := n; i < len(a); i++ {
		s += int32(a[i]) * int32(b[i])
	}
	return s
}

// dotI8PairAVX2 is dotI8AVX2 of a with b and with c at once, reading a once;
// len(a) must be a multiple of 16, b and c at least as long. Implemented in
// vector_quant_amd64.s.
//
//go:noescape
func dotI8PairAVX2(a []int8, b, c []int16) (int32, int32)

// dotI8Pair returns dotI8(a, b) and dotI8(a, c).
func dotI8Pair(a []int8, b, c []int16) (int32, int32) {
	if !useAVX2 || len(a) < 16 {
		return dotI8Generic(a, b), dotI8Generic(a, c)
	}
	b, c = b[:len(a)], c[:len(a)]
	n := len(a) &^ 15
	s, u := dotI8PairAVX2(a[:n], b[:n], c[:n])
	for i := n; i < len(a); i++ {
		s += int32(a[i]) * int32(b[i])
		u += int32(a[i]) * int32(c[i])
	}
	return s, u
}
