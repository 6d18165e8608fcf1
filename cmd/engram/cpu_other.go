//go:build !unix

package main

// cpuSeconds is not measured here (0): bench http leaves its CPU rates
// out, and the benchmarks that divide by it read +Inf.
func cpuSeconds() float64 { return 0 }
