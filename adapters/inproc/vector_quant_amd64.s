#include "textflag.h"

// func dotI8AVX2(a []int8, b []int16) int32
// len(a) must be a multiple of 16 and len(b) >= len(a). Products of int8 and
// int16 fit int32 with room for any realistic dimension (127·127·4096 < 2^31).
TEXT ·dotI8AVX2(SB), NOSPLIT, $0-52
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

loop32:
	CMPQ CX, $32
	JL   loop16
	VPMOVSXBW (SI), Y2
	VPMOVSXBW 16(SI), Y3
	VPMADDWD (DI), Y2, Y2
	VPMADDWD 32(DI), Y3, Y3
	VPADDD Y2, Y0, Y0
	VPADDD Y3, Y1, Y1
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $32, CX
	JMP  loop32

loop16:
	CMPQ CX, $16
	JL   reduce
	VPMOVSXBW (SI), Y2
	VPMADDWD (DI), Y2, Y2
	VPADDD Y2, Y0, Y0
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $16, CX
	JMP  loop16

reduce:
	VPADDD Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPHADDD X0, X0, X0
	VPHADDD X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func dotI8PairAVX2(a []int8, b, c []int16) (int32, int32)
// dotI8AVX2 against two queries: each 16 elements of a are widened once
// and multiplied with both.
TEXT ·dotI8PairAVX2(SB), NOSPLIT, $0-80
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	MOVQ c_base+48(FP), R8
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5

pair32:
	CMPQ CX, $32
	JL   pair16
	VPMOVSXBW (SI), Y2
	VPMOVSXBW 16(SI), Y3
	VPMADDWD (DI), Y2, Y6
	VPMADDWD 32(DI), Y3, Y7
	VPADDD Y6, Y0, Y0
	VPADDD Y7, Y1, Y1
	VPMADDWD (R8), Y2, Y6
	VPMADDWD 32(R8), Y3, Y7
	VPADDD Y6, Y4, Y4
	VPADDD Y7, Y5, Y5
	ADDQ $32, SI
	ADDQ $64, DI
	ADDQ $64, R8
	SUBQ $32, CX
	JMP  pair32

pair16:
	CMPQ CX, $16
	JL   pairreduce
	VPMOVSXBW (SI), Y2
	VPMADDWD (DI), Y2, Y6
	VPADDD Y6, Y0, Y0
	VPMADDWD (R8), Y2, Y6
	VPADDD Y6, Y4, Y4
	ADDQ $16, SI
	ADDQ $32, DI
	ADDQ $32, R8
	SUBQ $16, CX
	JMP  pair16

pairreduce:
	VPADDD Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPHADDD X0, X0, X0
	VPHADDD X0, X0, X0
	MOVL X0, ret+72(FP)
	VPADDD Y5, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD X5, X4, X4
	VPHADDD X4, X4, X4
	VPHADDD X4, X4, X4
	MOVL X4, ret1+76(FP)
	VZEROUPPER
	RET
