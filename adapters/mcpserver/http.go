package mcpserver

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
)

// Routes served by Handler. It expects the full request path (mount it at
// /mcp and /mcp/ without stripping the prefix).
const (
	PathStreamable = "/mcp"
	PathSSE        = "/mcp/sse"
)

type handlers struct {
	mux *http.ServeMux
}

func (h *handlers) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Handler serves Streamable HTTP at /mcp, the legacy SSE transport at
// /mcp/sse, and the OpenMemory layout /mcp/{client}/http/{user} and
// /mcp/{client}/sse/{user}. Every request is authenticated and its Origin
// checked before the SDK sees it.
func (s *Server) Handler() http.Handler {
	s.handlerOnce.Do(func() { s.handler = s.buildHandler() })
	return s.handler
}

func (s *Server) buildHandler() *handlers {
	if s.deps.Verifier == nil {
		panic("mcpserver: Handler needs Deps.Verifier")
	}
	if s.cfg.PublicURL == "" {
		panic("mcpserver: Handler needs Config.PublicURL")
	}
	stream := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp }, &mcp.StreamableHTTPOptions{
		SessionTimeout:      s.cfg.SessionTimeout,
		Logger:              s.log,
		MaxRequestBodyBytes: s.cfg.MaxBodyBytes,
		// guard checks Host against the configured public origin on every
		// route, SSE included. The SDK's own check keys on the listener
		// address instead and would refuse a reverse proxy's Host on a
		// loopback listener.
		DisableLocalhostProtection: true,
	})
	// The SDK hands tool handlers only one per-request value, the
	// auth.TokenInfo its own middleware stores; guard has already verified
	// the caller, so this "verifier" just repackages it. Its UserID is what
	// the SDK binds each session to.
	streamable := auth.RequireBearerToken(func(_ context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		c, ok := r.Context().Value(callerKey{}).(caller)
		if !ok {
			return nil, auth.ErrInvalidToken
		}
		scopes := make([]string, len(c.Principal.Scopes))
		for i, sc := range c.Principal.Scopes {
			scopes[i] = string(sc)
		}
		return &auth.TokenInfo{Scopes: scopes, UserID: c.bindingKey(), Extra: map[string]any{tokenInfoCaller: c}}, nil
	}, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(stream)

	serveStreamable := func(w http.ResponseWriter, r *http.Request, c caller) {
		r = r.Clone(withCaller(r.Context(), c))
		// The SDK middleware insists on the Bearer scheme; the real
		// credential (Bearer or DPoP) was checked by guard.
		r.Header.Set("Authorization", "Bearer verified")
		r.Header.Del("DPoP")
		s.limitStreamable(w, r, c, streamable)
	}
	mux := http.NewServeMux()
	mux.Handle(PathStreamable, s.guard(false, serveStreamable))
	mux.Handle(PathSSE, s.guard(false, s.serveSSE))
	mux.Handle("/mcp/{client}/http/{user}", s.guard(true, serveStreamable))
	mux.Handle("/mcp/{client}/sse/{user}", s.guard(true, s.serveSSE))
	return &handlers{mux: mux}
}

// guard rejects foreign origins and rebinding Host headers, authenticates,
// and on the OpenMemory paths checks that the path's user is the token's
// subject: the path names a client, it never grants an identity.
func (s *Server) guard(pathIdentity bool, next func(http.ResponseWriter, *http.Request, caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.originAllowed(r.Header.Get("Origin")) {
			writeProblem(w, http.StatusForbidden, "origin not allowed")
			return
		}
		if !s.hostAllowed(r) {
			writeProblem(w, http.StatusForbidden, "host not allowed")
			return
		}
		// The htu of a DPoP proof must name the path served (issue 11).
		if err := jwtauth.CheckRequestPath(r.URL); err != nil {
			writeProblem(w, http.StatusBadRequest, err.Error())
			return
		}
		p, commit, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if r.Method == http.MethodPost && !s.admitPost(w, r, p) {
			return
		}
		// The DPoP proof's one-time use is recorded only now, once the
		// rate limiter admitted the request: a client over its budget
		// never writes the replay cache.
		if commit != nil {
			if err := commit(r.Context()); err != nil {
				s.authFailed(w, r, err)
				return
			}
		}
		c := caller{Principal: p}
		if pathIdentity {
			if r.PathValue("user") != string(p.UserID) {
				writeProblem(w, http.StatusForbidden, "the user in the path is not the token's subject")
				return
			}
			c.PathApp = domain.AppIDFromClientName(r.PathValue("client"))
		}
		next(w, r, c)
	})
}

// originAllowed is the DNS-rebinding guard of the MCP transport spec: a
// browser page may only reach the server from the public origin, a loopback
// origin or a configured one. Non-browser clients send no Origin.
func (s *Server) originAllowed(origin string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" {
		return false
	}
	o := strings.ToLower(u.Scheme + "://" + u.Host)
	if o == strings.ToLower(s.publicURL.Scheme+"://"+s.publicURL.Host) || isLoopback(u.Hostname()) {
		return true
	}
	return slices.ContainsFunc(s.cfg.AllowedOrigins, func(a string) bool {
		return strings.EqualFold(strings.TrimRight(a, "/"), o)
	})
}

// hostAllowed refuses a non-loopback Host on a loopback listener when the
// public origin is itself loopback: that is a DNS-rebinding attempt, whatever
// the Origin says.
func (s *Server) hostAllowed(r *http.Request) bool {
	if !isLoopback(s.publicURL.Hostname()) {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return isLoopback(host)
}

func isLoopback(host string) bool {
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
