package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/trace"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Config is the transport's settings; cmd fills it from the one typed
// configuration.
type Config struct {
	// PublicURL is the origin clients use (http://127.0.0.1:8765). The
	// credentials' URL (DPoP htu) is PublicURL + request path, never the Host
	// header, and the resource metadata names it.
	PublicURL string
	// Resource is the RFC 9728 resource identifier; default PublicURL, which
	// is also the default token audience, so one token serves REST and MCP.
	Resource string
	// AuthorizationServers are listed in the protected resource metadata.
	AuthorizationServers []string
	// AllowedOrigins are browser origins allowed to call /mcp besides the
	// public origin and loopback origins (DNS-rebinding guard).
	AllowedOrigins []string
	// ScopesSupported overrides the scopes advertised in the metadata.
	ScopesSupported []string
	// DPoPAlgs are the proof algorithms the verifier accepts.
	DPoPAlgs []string
	// SessionTimeout closes idle Streamable HTTP sessions; default 30m.
	SessionTimeout time.Duration
	// MaxSessionsPerUser bounds one user's open Streamable HTTP sessions
	// (each holds a goroutine and buffers until it idles out); default 16,
	// 429 beyond. SessionMaxLifetime closes any session this old (the
	// client initializes again); default 8h.
	MaxSessionsPerUser int
	SessionMaxLifetime time.Duration
	// MaxBodyBytes bounds one HTTP request body (413 beyond); default 1 MiB,
	// the REST API's default, far above the 64 KiB a memory may hold.
	MaxBodyBytes int64
	// MaxSSESessions bounds concurrently open legacy SSE streams (each holds
	// a goroutine and a connection); default 1000, 503 beyond.
	MaxSSESessions int
	// MaxSSEPerUser bounds one principal's open SSE streams, so one tenant
	// cannot take the shared MaxSSESessions; default 4, 429 beyond.
	MaxSSEPerUser int
	// SSEIdleTimeout closes an SSE stream no message was posted to for this
	// long; default 10m. SSEMaxLifetime closes any stream this old (the
	// client reconnects); default 4h.
	SSEIdleTimeout, SSEMaxLifetime time.Duration
	// Version is reported in the initialize handshake.
	Version string
	Logger  *slog.Logger
	// Tracer, when set, gets a span per MCP request (per tool call).
	Tracer trace.Tracer
}

// Deps are the use cases the tools call. Memories is required; Verifier is
// required by Handler; the rest are optional: without a Searcher
// search_memory falls back to substring matching, without Sessions the
// session tools are not offered at all, without Limits calls are not
// rate-limited. Leave an optional field nil rather than a typed nil pointer.
type Deps struct {
	Memories *app.MemoryService
	Verifier ports.TokenVerifier
	Searcher Searcher
	Sessions SessionTools
	// Limits, when set, rate-limits every tool call in the same per-principal
	// buckets (reads, writes, search) as the REST routes, so a client cannot
	// escape its budget by switching transports.
	Limits RateChecker
	// AddressGuard, when set, refuses a client address that has spent its
	// budget of failed authentications before its credentials are
	// verified (the REST API shares the same guard).
	AddressGuard *app.AddressGuard
	// Privacy, when set, adds the subject access and erasure tools
	// (export_my_data, erase_my_data, get_erasure).
	Privacy Privacy
	// Positions, when set (a store that reads from replicas), gives each
	// session read-your-writes: after a write tool the session's later
	// calls read at least as far as that write (see sessionPositions).
	Positions ports.CommitPositions
	// Graph, when set, adds the entity tools (search_entities,
	// related_memories).
	Graph *app.GraphService
	// Inference, when set and Enabled, serves add_memories' infer: true
	// (facts extracted and reconciled with the user's memories).
	Inference *app.Inference
}

// RateChecker takes one token from a principal's bucket of a class;
// *app.RateLimitService satisfies it. A refusal wraps domain.ErrRateLimited.
type RateChecker interface {
	Check(ctx context.Context, p domain.Principal, class app.RouteClass) (app.RateResult, error)
}

var _ RateChecker = (*app.RateLimitService)(nil)

// Server holds one MCP server (the tools) shared by every transport.
type Server struct {
	cfg       Config
	deps      Deps
	log       *slog.Logger
	mcp       *mcp.Server
	publicURL *url.URL
	sse       sseSessions
	streams   streamSessions
	// toolScopes is each tool's required scope, for authorising an SSE
	// POST by its own token before the message reaches the session.
	toolScopes map[string]domain.Scope
	positions  sessionPositions

	handlerOnce sync.Once
	handler     *handlers
}

// New builds the MCP server and registers its tools. It panics when a
// required dependency is missing, as app constructors do: that is a wiring
// bug, not a runtime condition.
func New(cfg Config, deps Deps) *Server {
	if deps.Memories == nil {
		panic("mcpserver: Deps.Memories is required")
	}
	if deps.Searcher == nil {
		deps.Searcher = listSearcher{memories: deps.Memories}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 30 * time.Minute
	}
	if cfg.MaxSessionsPerUser == 0 {
		cfg.MaxSessionsPerUser = 16
	}
	if cfg.SessionMaxLifetime == 0 {
		cfg.SessionMaxLifetime = 8 * time.Hour
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxSSESessions == 0 {
		cfg.MaxSSESessions = 1000
	}
	if cfg.MaxSSEPerUser == 0 {
		cfg.MaxSSEPerUser = 4
	}
	if cfg.SSEIdleTimeout == 0 {
		cfg.SSEIdleTimeout = 10 * time.Minute
	}
	if cfg.SSEMaxLifetime == 0 {
		cfg.SSEMaxLifetime = 4 * time.Hour
	}
	if len(cfg.DPoPAlgs) == 0 {
		cfg.DPoPAlgs = []string{"ES256", "EdDSA", "RS256"}
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Resource == "" {
		cfg.Resource = cfg.PublicURL
	}
	u, err := url.Parse(cfg.PublicURL)
	if cfg.PublicURL != "" && (err != nil || u.Scheme == "" || u.Host == "") {
		panic(fmt.Sprintf("mcpserver: PublicURL %q is not an absolute origin", cfg.PublicURL))
	}
	s := &Server{cfg: cfg, deps: deps, log: cfg.Logger, publicURL: u, toolScopes: map[string]domain.Scope{}}
	s.positions = sessionPositions{src: deps.Positions, ttl: cfg.SessionMaxLifetime, last: map[string]positionEntry{}}
	s.sse.init()
	s.streams.init()
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "engram", Title: "Engram memory", Version: cfg.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		Logger:       cfg.Logger,
	})
	if cfg.Tracer != nil {
		s.mcp.AddReceivingMiddleware(traceMethods(cfg.Tracer))
	}
	s.addMemoryTools()
	if deps.Sessions != nil {
		s.addSessionTools()
	}
	if deps.Privacy != nil {
		s.addPrivacyTools()
	}
	if deps.Graph != nil {
		s.addGraphTools()
	}
	return s
}

const instructions = `Engram is the user's long-term memory. Search it (search_memory) before answering questions that may depend on what you know about the user; store durable facts, preferences and decisions with add_memories, one statement per call; correct outdated facts with update_memory rather than adding contradictions. Never store secrets such as passwords or keys.`

// ServeStdio serves the tools over stdin/stdout for one local client until
// ctx ends or the client disconnects. Every call acts as p.
func (s *Server) ServeStdio(ctx context.Context, p domain.Principal) error {
	return s.ServeTransport(ctx, p, &mcp.StdioTransport{})
}

// ServeTransport serves one session on any SDK transport (stdio, in-memory
// pipes, a command's pipes) with every call acting as p.
func (s *Server) ServeTransport(ctx context.Context, p domain.Principal, t mcp.Transport) error {
	if err := p.Tenant().Validate(); err != nil {
		return fmt.Errorf("mcpserver: serve: %w", err)
	}
	err := s.mcp.Run(withCaller(ctx, caller{Principal: p}), t)
	if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, mcp.ErrConnectionClosed)) {
		return nil
	}
	return err
}
