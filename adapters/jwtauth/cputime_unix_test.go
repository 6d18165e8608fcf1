//go:build unix

package jwtauth_test

import "syscall"

// processCPU is the user+system CPU time this process has used, in ns. On a
// machine shared with other work, CPU time per operation is a steadier figure
// than wall time, which includes the time the benchmark waited for a core.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
