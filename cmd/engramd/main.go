// Command engramd is the Engram server: the REST API under /api/v1 and the
// MCP endpoint at /mcp, on the embedded SQLite store by default or on
// PostgreSQL and Valkey when configured.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "engramd:", err)
		stop()
		os.Exit(1)
	}
}

// getenv is os.Getenv, except that ENGRAM_ADMIN_ADDR set to the empty
// string reads as "off": config cannot tell empty from unset, and the
// README promises that an empty value turns the admin listener off.
func getenv(key string) string {
	v, ok := os.LookupEnv(key)
	if ok && v == "" && key == "ENGRAM_ADMIN_ADDR" {
		return "off"
	}
	return v
}

// ready is closed by run once the listener accepts connections; tests wait
// on it. Only tests set it.
var ready chan<- string

func announce(addr string) {
	if ready != nil {
		ready <- addr
	}
}
