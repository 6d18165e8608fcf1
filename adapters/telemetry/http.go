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

	"github.com/engram-memory/engram/docs"
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

// extraRoutes are the routes outside the OpenAPI document: MCP's
// endpoints and its protected-resource metadata.
var extraRoutes = []string{
	"/mcp", "/mcp/sse", "/mcp/{client}/http/{user}", "/mcp/{client}/sse/{user}",
	"/.well-known/oauth-protected-resource",
}

// routeTable holds every route template the server answers, split into
// segments, by segment count. It is read from docs/openapi*.yaml (every API
// route is documented there; the conformance tests hold the server to it),
// so a route added to the API gets its own label without a change here.
// Each template's label is joined once here, not per request.
var routeTable = func() map[int][]routeTemplate {
	paths := append([]string(nil), extraRoutes...)
	paths = append(paths, openAPIPaths(docs.OpenAPI)...)
	for _, f := range docs.OpenAPIFragments() {
		paths = append(paths, openAPIPaths(f.YAML)...)
	}
	t := map[int][]routeTemplate{}
	for _, p := range paths {
		segs := strings.Split(p, "/")
		for i, sg := range segs {
			if strings.HasPrefix(sg, "{") && strings.HasSuffix(sg, "}") {
				segs[i] = ":" + sg[1:len(sg)-1]
			}
		}
		t[len(segs)] = append(t[len(segs)], routeTemplate{segs: segs, label: strings.Join(segs, "/")})
	}
	return t
}()

// routeTemplate is one route template: its segments and its label.
type routeTemplate struct {
	segs  []string
	label string
}

// openAPIPaths lists the keys of an OpenAPI document's paths object: the
// lines indented by two spaces that start with a slash and end with a colon.
func openAPIPaths(doc []byte) []string {
	var out []string
	for _, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimRight(line, " \r")
		if strings.HasPrefix(line, "  /") && !strings.HasPrefix(line, "   ") && strings.HasSuffix(line, ":") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(line), ":"))
		}
	}
	return out
}

// Route turns a request path into the template of the route it matches
// (/api/v1/memories/:id), so a metric label never holds an identifier; a
// path that is no route of the server is "other", so junk requests cannot
// grow the series count. When several templates match, the one with the
// most literal segments wins (/memories/bulk-delete over /memories/:id).
func Route(path string) string {
	segs := strings.Split(path, "/")
	best, bestLiterals := "other", -1
	for _, tpl := range routeTable[len(segs)] {
		literals := 0
		for i, sg := range tpl.segs {
			if strings.HasPrefix(sg, ":") {
				if segs[i] == "" {
					literals = -1
					break
				}
				continue
			}
			if sg != segs[i] {
				literals = -1
				break
			}
			literals++
		}
		if literals > bestLiterals {
			best, bestLiterals = tpl.label, literals
		}
	}
	return best
}

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
