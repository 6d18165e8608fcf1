package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// HTTP wraps the server's handler: it continues the caller's trace from a
// W3C traceparent header (or starts one), runs the request in a server
// span, and counts it by method, route template and status.
func (t *T) HTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, method := Route(r.URL.Path), Method(r.Method)
		ctx := t.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", method), attribute.String("http.route", route)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		h.ServeHTTP(sw, r.WithContext(ctx))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
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
}

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

// idAfter are the collections whose next path segment is an identifier.
var idAfter = map[string]bool{"memories": true, "apps": true, "experiments": true, "sessions": true}

// actions are fixed segments that sit where an identifier could.
var actions = map[string]bool{"bulk-delete": true, "bulk-state": true, "batch": true}

// templates are every route the server answers, as Route writes them. A
// label holds one of these or "other", never a client's path, so junk
// requests cannot grow the series count (TestRouteTemplatesCoverTheAPI
// holds this list to docs/openapi.yaml).
var templates = setOf(
	"/healthz", "/readyz", "/api/v1/openapi.json",
	"/api/v1/memories", "/api/v1/memories/bulk-delete", "/api/v1/memories/bulk-state",
	"/api/v1/memories/:id", "/api/v1/memories/:id/history",
	"/api/v1/apps", "/api/v1/apps/:id", "/api/v1/apps/:id/memories", "/api/v1/apps/:id/accessed",
	"/api/v1/stats", "/api/v1/search",
	"/api/v1/feedback", "/api/v1/feedback/batch", "/api/v1/feedback/metrics",
	"/api/v1/experiments", "/api/v1/experiments/:id", "/api/v1/experiments/:id/assignment",
	"/api/v1/experiments/:id/results", "/api/v1/experiments/:id/start", "/api/v1/experiments/:id/pause",
	"/api/v1/experiments/:id/resume", "/api/v1/experiments/:id/complete", "/api/v1/experiments/:id/cancel",
	"/api/v1/sessions/:id", "/api/v1/sessions/:id/events", "/api/v1/sessions/:id/context",
	"/api/v1/sessions/:id/promote",
	"/mcp", "/mcp/sse", "/mcp/:client/http/:user", "/mcp/:client/sse/:user",
	"/.well-known/oauth-protected-resource",
)

func setOf(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Route turns a request path into its template (/api/v1/memories/:id), so
// a metric label never holds an identifier; a path that is no route of the
// server is "other", so a scanner cannot blow up the series count.
func Route(path string) string {
	segs := strings.Split(path, "/")
	if len(segs) > 8 {
		return "other"
	}
	for i := 1; i < len(segs); i++ {
		if idAfter[segs[i-1]] && segs[i] != "" && !actions[segs[i]] {
			segs[i] = ":id"
		}
	}
	if len(segs) == 5 && segs[1] == "mcp" && (segs[3] == "http" || segs[3] == "sse") && segs[2] != "" && segs[4] != "" {
		// The OpenMemory-compatible paths name a client and a user.
		segs[2], segs[4] = ":client", ":user"
	}
	if t := strings.Join(segs, "/"); templates[t] {
		return t
	}
	return "other"
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
