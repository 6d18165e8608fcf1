package resilience

import (
	"context"

	"github.com/engram-memory/engram/ports/intercept"
)

// Intercept runs one port call of p's dependency under its policies: the
// breaker and the deadline always, retries with backoff for idempotent
// calls only. Wrap ports with it through package intercept.
func (p *Policy) Intercept(ctx context.Context, c intercept.Call, next func(context.Context) error) error {
	_, err := do(ctx, p, c.Op, c.Idempotent, func(ctx context.Context) (struct{}, error) { return struct{}{}, next(ctx) })
	return err
}
