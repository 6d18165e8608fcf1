package mcpserver_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// openSSEStream opens a legacy SSE stream as token and returns the
// response and the endpoint its first event names ("" when refused).
func openSSEStream(t *testing.T, h *harness, ctx context.Context, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.public+"/mcp/sse", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		return resp, ""
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return resp, data
		}
	}
	return resp, ""
}

// One user cannot hold every SSE slot: past the per-user cap it gets 429
// while another user still opens a stream.
func TestSSEStreamsAreCappedPerUser(t *testing.T) {
	h := newHarness(t, func(su *setup) { su.Config.MaxSSEPerUser = 2 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 2 {
		resp, endpoint := openSSEStream(t, h, ctx, h.token("alice"))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotEmpty(t, endpoint)
	}
	resp, _ := openSSEStream(t, h, ctx, h.token("alice"))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	resp, _ = openSSEStream(t, h, ctx, h.token("bob"))
	require.Equal(t, http.StatusOK, resp.StatusCode, "another user is not affected")
}

// An SSE stream no message was posted to is closed after the idle
// timeout, and every stream after its maximum lifetime.
func TestSSEStreamsCloseWhenIdleOrOld(t *testing.T) {
	for name, mutate := range map[string]func(*setup){
		"idle": func(su *setup) { su.Config.SSEIdleTimeout = 300 * time.Millisecond },
		"old":  func(su *setup) { su.Config.SSEMaxLifetime = 300 * time.Millisecond },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, mutate, func(su *setup) { su.Config.MaxSSEPerUser = 1 })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, endpoint := openSSEStream(t, h, ctx, h.token("alice"))
			require.NotEmpty(t, endpoint)
			_, err := io.Copy(io.Discard, resp.Body) // returns when the server ends the stream
			require.NoError(t, err)
			require.NoError(t, ctx.Err(), "the stream was closed by the server, not by the test's deadline")
			// Its slot is free again.
			require.Eventually(t, func() bool {
				r, e := openSSEStream(t, h, ctx, h.token("alice"))
				return r.StatusCode == http.StatusOK && e != ""
			}, 10*time.Second, 50*time.Millisecond)
		})
	}
}

// A tool call posted to an SSE stream is authorised by the POST's own
// token: a read-only token cannot write through a stream a full token
// opened.
func TestSSEToolCallsUseThePostsToken(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, endpoint := openSSEStream(t, h, ctx, h.token("alice"))
	require.NotEmpty(t, endpoint)
	readOnly := h.token("alice", domain.ScopeMemoriesRead)
	require.Equal(t, http.StatusAccepted, h.post(endpoint, "Bearer "+readOnly, "", initializeBody).StatusCode)
	add := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_memories","arguments":{"text":"sneaked in"}}}`
	resp := h.post(endpoint, "Bearer "+readOnly, "", add)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	require.Contains(t, string(body), string(domain.ScopeMemoriesWrite))
	list := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_memories","arguments":{}}}`
	require.Equal(t, http.StatusAccepted, h.post(endpoint, "Bearer "+readOnly, "", list).StatusCode)
}

// Every MCP POST is counted by the rate limiter, initialize included: a
// flood of sessions from one token is refused with 429, another user's
// requests are not.
func TestEveryMCPPostIsRateLimited(t *testing.T) {
	h := newHarness(t, func(su *setup) {
		limiter := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
		t.Cleanup(func() { _ = limiter.Close() })
		svc, err := app.NewRateLimitService(app.RateLimitDeps{Limiter: limiter, Limits: app.RateLimits{
			Reads:  ports.RateLimit{Burst: 5, Period: time.Hour},
			Writes: ports.RateLimit{Burst: 5, Period: time.Hour},
			Search: ports.RateLimit{Burst: 5, Period: time.Hour},
		}})
		require.NoError(t, err)
		su.Deps.Limits = svc
	})
	alice := h.token("alice")
	codes := map[int]int{}
	for range 8 {
		codes[h.post("/mcp", "Bearer "+alice, "", initializeBody).StatusCode]++
	}
	require.Equal(t, 5, codes[http.StatusOK], codes)
	require.Equal(t, 3, codes[http.StatusTooManyRequests], codes)
	require.Equal(t, http.StatusOK, h.post("/mcp", "Bearer "+h.token("bob"), "", initializeBody).StatusCode)
}
