package mcpserver_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/engram-memory/engram/domain"
)

// Every tool call gets a span named after the tool; a refused call (missing
// scope) is marked as an error.
func TestToolCallsAreTraced(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	h := newHarness(t, func(s *setup) { s.Config.Tracer = tp.Tracer("test") })

	cs := h.connect("/mcp", h.token("alice"), "tracing-test")
	call(t, cs, "add_memories", map[string]any{"text": "traced memory"})
	reader := h.connect("/mcp", h.token("bob", domain.ScopeMemoriesRead), "tracing-test")
	res := call(t, reader, "add_memories", map[string]any{"text": "refused"})
	require.True(t, res.IsError)

	var okSpans, failed int
	for _, s := range rec.Ended() {
		if s.Name() != "mcp tools/call add_memories" {
			continue
		}
		if s.Status().Code == codes.Error {
			failed++
		} else {
			okSpans++
		}
	}
	require.Equal(t, 1, okSpans, "the successful call")
	require.Equal(t, 1, failed, "the call refused for a missing scope")
}
