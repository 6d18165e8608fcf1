package mcpserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/ports"
)

func TestToolCallsShareTheRateLimitBuckets(t *testing.T) {
	h := newHarness(t, func(su *setup) {
		limiter := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
		t.Cleanup(func() { _ = limiter.Close() })
		svc, err := app.NewRateLimitService(app.RateLimitDeps{Limiter: limiter, Limits: app.RateLimits{
			Reads:  ports.RateLimit{Burst: 100, Period: time.Hour},
			Writes: ports.RateLimit{Burst: 2, Period: time.Hour},
			Search: ports.RateLimit{Burst: 1, Period: time.Hour},
		}})
		require.NoError(t, err)
		su.Deps.Limits = svc
	})
	cs := h.connect("/mcp", h.token("alice"), "test")
	callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "one"})
	callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "two"})
	res := call(t, cs, "add_memories", map[string]any{"text": "three"})
	require.True(t, res.IsError)
	require.Contains(t, text(res), "rate limited")

	require.Len(t, callOK[listJSON](t, cs, "list_memories", nil).Items, 2, "reads have their own bucket")
	callOK[searchJSON](t, cs, "search_memory", map[string]any{"query": "one"})
	res = call(t, cs, "search_memory", map[string]any{"query": "two"})
	require.True(t, res.IsError)
	require.Contains(t, text(res), "search")

	bob := h.connect("/mcp", h.token("bob"), "test")
	callOK[addJSON](t, bob, "add_memories", map[string]any{"text": "bob has his own budget"})
}
