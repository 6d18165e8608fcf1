// Package telemetry is Engram's OpenTelemetry tracing and Prometheus
// metrics: a tracer provider (OTLP/HTTP when an endpoint is configured, a
// no-op otherwise, W3C traceparent propagation either way), one Prometheus
// registry with the Go runtime and process collectors, and an interceptor
// (T.Intercept, used through package ports/intercept) that puts a span and
// latency/outcome metrics around every call to a store, index, cache or
// embedder.
//
// The interceptor is meant to run outside the resilience interceptor, so
// what it records is what the caller got: an open breaker shows as an
// unavailable outcome in microseconds, not as the backend's own error.
package telemetry
