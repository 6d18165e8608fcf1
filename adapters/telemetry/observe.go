package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// call is one decorated port call: a client span named
// "<dependency>.<operation>", its latency in the histogram, and the
// dependency's up gauge from the outcome.
func call[R any](ctx context.Context, t *T, dep, op string, fn func(context.Context) (R, error)) (R, error) {
	ctx, span := t.tracer.Start(ctx, dep+"."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("engram.dependency", dep), attribute.String("engram.operation", op)))
	start := time.Now()
	r, err := fn(ctx)
	outcome := Outcome(err)
	t.m.depDuration.WithLabelValues(dep, op, outcome).Observe(time.Since(start).Seconds())
	switch outcome {
	case "ok", "client_error":
		t.SetUp(dep, true)
	case "unavailable":
		t.SetUp(dep, false)
	}
	span.SetAttributes(attribute.String("engram.outcome", outcome))
	if outcome == "unavailable" || outcome == "error" {
		// The error text is the adapter's (table and host names), never a
		// memory's text or a token: adapters do not put those in errors.
		span.RecordError(err)
		span.SetStatus(codes.Error, outcome)
	}
	span.End()
	return r, err
}

func run(ctx context.Context, t *T, dep, op string, fn func(context.Context) error) error {
	_, err := call(ctx, t, dep, op, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}
