//go:build !amd64

package inproc

func dotI8(a []int8, b []int16) int32 { return dotI8Generic(a, b) }

func dotI8Pair(a []int8, b, c []int16) (int32, int32) { return dotI8Generic(a, b), dotI8Generic(a, c) }
