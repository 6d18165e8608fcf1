package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// HTTP wraps the server's handler: it continues the caller's trace from a
// W3C traceparent header (or starts one), runs the request in a server
// span, and counts it by method, route template and status.
//
// The route template is the one the router matched, which the handler
// reports through the response writer's SetRoute (httpapi.RouteSetter):
// the router's own table, so no second table can drift from it. A request
// no route matched is "other", and the method is one of a fixed set or
// "other", so junk requests cannot grow the series count.
func (t *T) HTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := Method(r.Method)
		ctx := t.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", method)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		h.ServeHTTP(sw, r.WithContext(ctx))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		route := sw.route
		if route == "" {
			route = "other"
		}
		span.SetName(method + " " + route)
		span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		t.m.httpTotal.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		t.m.httpLatency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status. Unwrap lets http.ResponseController
// (and echo's Flush) reach the real writer, so MCP's SSE streams still
// flush.
type statusWriter struct {
	http.ResponseWriter
	status int
	route  string
}

// SetRoute records the route template the router matched.
func (w *statusWriter) SetRoute(template string) { w.route = template }

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func setOf(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// methods are the method label's values; anything else is "other".
var methods = setOf(http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions)

// Method is the method label for m: a standard method or "other", so a
// client inventing methods cannot grow the series count either.
func Method(m string) string {
	if methods[m] {
		return m
	}
	return "other"
}

// Transport injects the current trace's traceparent into outbound requests
// (embedder, Elasticsearch, Qdrant over HTTP), so their spans join ours.
func (t *T) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		t.Propagator.Inject(r.Context(), propagation.HeaderCarrier(r.Header))
		return base.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// LogHandler adds trace_id and span_id to every record logged with a
// context inside a span, so a log line leads to its trace.
func LogHandler(h slog.Handler) slog.Handler { return traceHandler{h} }

type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
