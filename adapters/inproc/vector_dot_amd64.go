package inproc

import "golang.org/x/sys/cpu"

// useAVX2 is decided once: the Go compiler does not vectorise loops, and a
// scan is four times faster with 256-bit fused multiply-adds, which every
// x86-64 server CPU of the last decade has.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dotAVX2 returns the dot product of a and b[:len(a)] over the first
// len(a)&^7 elements. Implemented in vector_dot_amd64.s.
//
//go:noescape
func dotAVX2(a, b []float32) float32

func dot(a, b []float32) float32 {
	if !useAVX2 || len(a) < 8 {
		return dotGeneric(a, b)
	}
	b = b[:len(a)]
	n := len(a) &^ 7
	s := dotAVX2(a[:n], b[:n])
	for i := n; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}
