//go:build !amd64

package inproc

func dotI8(a []int8, b []int16) int32 { return dotI8Generic(a, b) }
