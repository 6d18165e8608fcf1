package mcpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// admitPost counts every MCP POST (initialize, notifications, tool calls,
// on either transport) against the caller's reads budget before the SDK
// sees it: a flood of initialize requests, each of which keeps a session,
// is refused like any other. Tool calls are also counted in their own
// class when they run. It answers 429 and returns false when refused.
func (s *Server) admitPost(w http.ResponseWriter, r *http.Request, p domain.Principal) bool {
	if s.deps.Limits == nil {
		return true
	}
	_, err := s.deps.Limits.Check(r.Context(), p, app.ClassReads)
	if err == nil {
		return true
	}
	var rle *app.RateLimitedError
	if errors.As(err, &rle) {
		w.Header().Set("Retry-After", strconv.Itoa(rle.RetryAfterSeconds()))
		writeProblem(w, http.StatusTooManyRequests, "rate limited: too many MCP requests; retry later")
		return false
	}
	if errors.Is(err, domain.ErrRateLimited) {
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusTooManyRequests, "rate limited: too many MCP requests; retry later")
		return false
	}
	// The limiter itself failed: the service fails open, as the REST API does.
	return true
}

// authorizeSSEMessage checks a message posted to an SSE session against the
// POST's own token, not the one that opened the stream: a tools/call needs
// the tool's scope in this request's token (which was verified just now, so
// an expired token never reaches a tool). It restores the body for the SDK.
func (s *Server) authorizeSSEMessage(r *http.Request, c caller) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return domain.Invalid("body", "must be at most %d bytes", s.cfg.MaxBodyBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var msg struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Method != "tools/call" {
		return nil // the SDK answers malformed and other messages itself
	}
	scope, ok := s.toolScopes[msg.Params.Name]
	if !ok {
		return nil // an unknown tool: the SDK says so
	}
	return c.Principal.Require(scope)
}
