package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// `engram bench <what>` dispatches to the registered "bench-<what>" command,
// so each benchmark lives in its own file.
func init() {
	register("bench", command{
		summary: "whole-system benchmarks: bench http|search|sessions|mcp [flags]",
		run:     runBench,
	})
}

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var kinds []string
	for name := range commands {
		if k, ok := strings.CutPrefix(name, "bench-"); ok {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	if len(args) == 0 {
		return fmt.Errorf("bench: say what to measure: %s", strings.Join(kinds, ", "))
	}
	if isHelp(args[0]) {
		fmt.Fprintf(stderr, "usage: engram bench <%s> [flags]; engram bench <kind> -h lists its flags\n", strings.Join(kinds, "|"))
		return flag.ErrHelp
	}
	c, ok := commands["bench-"+args[0]]
	if !ok {
		return fmt.Errorf("bench: unknown benchmark %q (have %s)", args[0], strings.Join(kinds, ", "))
	}
	return c.run(ctx, args[1:], getenv, stdout, stderr)
}
