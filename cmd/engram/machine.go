package main

import (
	"bufio"
	"os"
	"runtime"
	"strings"
)

// cpuModel names the processor for benchmark headers (Linux only; "unknown"
// elsewhere).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown cpu"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown cpu"
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
