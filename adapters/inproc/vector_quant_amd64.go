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
