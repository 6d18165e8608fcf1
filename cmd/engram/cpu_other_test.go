//go:build !unix

package main

// cpuSeconds is not measured here: the benchmark's CPU rates read +Inf.
func cpuSeconds() float64 { return 0 }
