package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// caller is who a tool call acts for: the verified principal and, on the
// OpenMemory-style paths, the client named in the path.
type caller struct {
	Principal domain.Principal
	PathApp   domain.AppID // from /mcp/{client}/...; empty elsewhere
}

// bindingKey identifies the owner of an MCP session. A session opened by one
// user (or through one client path) cannot be driven by another: the SDK
// compares this key on every request that names the session.
func (c caller) bindingKey() string {
	return string(c.Principal.OrgID) + "\n" + string(c.Principal.UserID) + "\n" + string(c.PathApp)
}

type callerKey struct{}

// tokenInfoCaller is the key under which the per-request caller travels in
// the SDK's auth.TokenInfo.Extra, the only per-request value the Streamable
// HTTP transport hands to tool handlers.
const tokenInfoCaller = "engram.caller"

func withCaller(ctx context.Context, c caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// callerOf finds the caller of a tool call. Streamable HTTP re-authenticates
// every request, so the request's own token wins; SSE and stdio sessions carry
// the caller that opened them in the session context.
func callerOf(ctx context.Context, req *mcp.CallToolRequest) (caller, bool) {
	if req != nil && req.Extra != nil && req.Extra.TokenInfo != nil {
		if c, ok := req.Extra.TokenInfo.Extra[tokenInfoCaller].(caller); ok {
			return c, true
		}
	}
	c, ok := ctx.Value(callerKey{}).(caller)
	return c, ok
}

// actingApp picks the app a call is recorded under: an app named in the
// arguments, else the token's client, else the client in the path, else the
// name the client gave in the initialize handshake, else domain.DefaultApp.
func actingApp(c caller, ss *mcp.ServerSession, explicit domain.AppID) domain.AppID {
	if c.Principal.BoundApp != "" {
		return c.Principal.BoundApp
	}
	if explicit != "" {
		return explicit
	}
	if c.Principal.ClientID != "" {
		return app.ActingApp(c.Principal, "")
	}
	if c.PathApp != "" {
		return c.PathApp
	}
	if ss != nil {
		if ip := ss.InitializeParams(); ip != nil && ip.ClientInfo != nil {
			return domain.AppIDFromClientName(ip.ClientInfo.Name)
		}
	}
	return domain.DefaultApp
}
