// Package intercept decorates ports the way gRPC interceptors decorate
// calls: one wrapper per port turns every method into a Call handed to an
// Interceptor, so a cross-cutting concern (tracing and metrics in
// adapters/telemetry, deadlines, retries and breakers in adapters/resilience)
// is one small function, and adding a port method touches one wrapper here.
//
// A wrapper's method runs the real call inside next; an interceptor may run
// next again (a retry), not at all (an open breaker) or under a shorter
// deadline, but never concurrently with itself and never after it returned:
// results are written by next into the wrapper's locals.
package intercept

import "context"

// Call describes one port call.
type Call struct {
	// Dependency names the backend ("postgres", "valkey", "qdrant", ...):
	// the label of its metrics and the key of its breaker.
	Dependency string
	// Op names the operation ("get", "text_index", "append_feedback").
	Op string
	// Idempotent calls may be retried: reads, and writes whose repetition
	// changes nothing (index upserts and deletes).
	Idempotent bool
}

// Interceptor runs next, the real call, around whatever it adds.
type Interceptor func(ctx context.Context, c Call, next func(context.Context) error) error

// Chain composes interceptors, the first outermost: Chain(a, b) runs
// a(b(call)).
func Chain(ics ...Interceptor) Interceptor {
	return func(ctx context.Context, c Call, next func(context.Context) error) error {
		call := next
		for i := len(ics) - 1; i >= 0; i-- {
			ic, inner := ics[i], call
			call = func(ctx context.Context) error { return ic(ctx, c, inner) }
		}
		return call(ctx)
	}
}

// base is what every wrapper holds.
type base struct {
	dep string
	ic  Interceptor
}

const (
	read  = true  // idempotent: may be retried
	write = false // never retried
)

func (b base) do(ctx context.Context, op string, idempotent bool, next func(context.Context) error) error {
	return b.ic(ctx, Call{Dependency: b.dep, Op: op, Idempotent: idempotent}, next)
}
