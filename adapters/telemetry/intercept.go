package telemetry

import (
	"context"

	"github.com/engram-memory/engram/ports/intercept"
)

// Intercept traces and measures one port call: a client span named
// "<dependency>.<operation>", its latency in engram_dependency_duration, and
// the dependency's up gauge from the outcome. Wrap ports with it through
// package intercept.
func (t *T) Intercept(ctx context.Context, c intercept.Call, next func(context.Context) error) error {
	return run(ctx, t, c.Dependency, c.Op, next)
}
