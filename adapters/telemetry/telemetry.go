package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config names where traces go. Metrics are always collected; they are
// served by whoever mounts Registry (engramd's admin listener).
type Config struct {
	// OTLPEndpoint is an OTLP/HTTP collector, as a URL
	// (http://127.0.0.1:4318) or host:port (plain HTTP assumed, as for a
	// collector sidecar); empty turns tracing into a no-op.
	OTLPEndpoint string
	// ServiceName is the service.name resource attribute; "engramd" when
	// empty.
	ServiceName string
	// Version is the service.version attribute.
	Version string
	// Logger receives export failures (a collector that is down), at
	// most one line per ErrorEvery; nil discards them.
	Logger *slog.Logger
}

// ErrorEvery throttles export-failure log lines: a collector that is down
// would otherwise log on every batch.
const ErrorEvery = 30 * time.Second

// T is the process's telemetry: tracer, propagator and metric registry.
type T struct {
	Registry   *prometheus.Registry
	Propagator propagation.TextMapPropagator
	tracer     trace.Tracer
	shutdown   func(context.Context) error
	m          metrics
}

// New builds telemetry for cfg. With an endpoint it starts a batching
// OTLP/HTTP exporter; New does not dial, so a collector that is down costs
// dropped spans, never a failed start.
func New(ctx context.Context, cfg Config) (*T, error) {
	if cfg.ServiceName == "" {
		cfg.ServiceName = "engramd"
	}
	t := &T{
		Registry:   prometheus.NewRegistry(),
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		shutdown:   func(context.Context) error { return nil },
	}
	t.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	t.m = newMetrics(t.Registry)
	if cfg.OTLPEndpoint == "" {
		t.tracer = noop.NewTracerProvider().Tracer("engram")
		return t, nil
	}
	exp, err := otlptracehttp.New(ctx, endpointOption(cfg.OTLPEndpoint))
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP exporter for %q: %w", cfg.OTLPEndpoint, err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(cfg.Version)))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithResource(res),
	)
	// The SDK reports export failures to the process-wide handler (by
	// default the standard logger, in plain text on stderr); route them
	// into our JSON log, throttled.
	var last atomic.Int64
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		now := time.Now().UnixNano()
		if prev := last.Load(); now-prev < int64(ErrorEvery) || !last.CompareAndSwap(prev, now) {
			return
		}
		if cfg.Logger != nil {
			cfg.Logger.Warn("trace export failed; spans are being dropped", "endpoint", cfg.OTLPEndpoint, "err", err)
		}
	}))
	t.tracer = tp.Tracer("engram")
	t.shutdown = tp.Shutdown
	return t, nil
}

// endpointOption reads the endpoint as OTEL_EXPORTER_OTLP_ENDPOINT is
// read: a base to which /v1/traces is added when it has no path of its own.
func endpointOption(ep string) otlptracehttp.Option {
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	if u, err := url.Parse(ep); err == nil && strings.Trim(u.Path, "/") == "" {
		u.Path = "/v1/traces"
		ep = u.String()
	}
	return otlptracehttp.WithEndpointURL(ep)
}

// Tracer is the tracer every span of the process comes from.
func (t *T) Tracer() trace.Tracer { return t.tracer }

// Shutdown flushes pending spans; call it once, after the server drained.
func (t *T) Shutdown(ctx context.Context) error {
	if err := t.shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("telemetry: flush traces: %w", err)
	}
	return nil
}
