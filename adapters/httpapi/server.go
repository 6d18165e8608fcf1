package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// DefaultBodyLimit bounds request bodies when Config.BodyLimit is zero.
const DefaultBodyLimit = 1 << 20

// Config is the transport's settings; cmd/engramd fills it from flags and
// ENGRAM_* variables.
type Config struct {
	// PublicURL is the origin clients use (scheme://host[:port], no path),
	// e.g. https://memory.example.com. DPoP htu is checked against it plus
	// the request path, never against Host or X-Forwarded-* headers.
	PublicURL string
	// BodyLimit bounds request bodies in bytes; 0 means DefaultBodyLimit.
	BodyLimit int64
	// TLS says the server terminates TLS itself, which turns on HSTS.
	TLS bool
	// ReadyTimeout bounds each readiness check; 0 means 2 s.
	ReadyTimeout time.Duration
	// ReadyCacheTTL is how long one /readyz probe round answers every
	// caller; 0 means 1 s, negative probes on every request (tests).
	ReadyCacheTTL time.Duration
	// AllowedOrigins are browser origins (scheme://host[:port]) allowed to
	// call the API and /mcp cross-origin (ENGRAM_ALLOWED_ORIGINS): their
	// CORS preflights are answered before authentication.
	AllowedOrigins []string
	// RequestTimeout bounds each /api/v1 request's context, so a slow
	// store call is abandoned instead of piling up; 0 means 30 s. Mounted
	// handlers are not bound by it (MCP streams live long).
	RequestTimeout time.Duration
}

// Check is one dependency probed by /readyz. A required check that fails
// makes the server not ready (503); an optional one is only reported.
type Check struct {
	Name     string
	Required bool
	Probe    func(ctx context.Context) error
	// Pending, when set, reports a backlog shown beside the check (an
	// index's lag behind the store, in memories).
	Pending func() int
	// Outbox, when set, reads the index's durable outbox (backlog, age
	// of the oldest row, parked rows), shown beside the check.
	Outbox func(ctx context.Context) (ports.OutboxStats, error)
	// LagSeconds, when set, reports how far a read replica is behind its
	// primary, shown beside the check.
	LagSeconds func() float64
}

// Deps are what the handlers call.
type Deps struct {
	Memories *app.MemoryService
	// Inference, when set, serves infer: true on add and the events route.
	Inference *app.Inference
	Verifier  ports.TokenVerifier
	Ready     []Check
	// RateLimits, when set, rate-limits each authenticated principal on
	// the API routes per route class (reads, writes, search); nil turns
	// limiting off. Mounted handlers limit themselves.
	RateLimits *app.RateLimitService
	// Logger receives the access log and internal errors; nil discards.
	Logger *slog.Logger
	// AddressGuard, when set, refuses (429) a client address that has
	// spent its budget of failed authentications, before its credentials
	// are verified; nil turns it off.
	AddressGuard *app.AddressGuard
	// OnUnavailable, when set, is told the dependency of every 503
	// answered (telemetry counts them); it must not block.
	OnUnavailable func(dependency string)
	// Positions, when set (a store that reads from replicas), stamps each
	// successful write's response with an Engram-Consistency header; a
	// request that sends it back reads at least that far. Nil: no header.
	Positions ports.CommitPositions
}

// Server is the HTTP API. Handler serves it; Mount adds other transports
// behind the same middleware stack. Mount before serving: echo's router is
// not safe for concurrent registration and serving.
type Server struct {
	cfg     Config
	origin  string
	origins []string // AllowedOrigins, normalised
	d       Deps
	e       *echo.Echo
	log     *slog.Logger
	spec    servedSpec
	ready   readyCache
	// searcher serves GET /api/v1/memories?q= once EnableSearch is called.
	searcher *app.ExperimentSearch
	// scopes records each API route's scope ("GET /api/v1/stats") so a
	// test can hold docs/openapi.yaml's x-required-scope to it.
	scopes map[string]domain.Scope
	// bodyLimits overrides Config.BodyLimit per route path.
	bodyLimits map[string]int64
	// routeSet is every registered route template (isRoute).
	routeSetOnce sync.Once
	routeSet     map[string]bool
}

// New validates cfg and deps and builds the router.
func New(cfg Config, d Deps) (*Server, error) {
	origin, err := normalizeOrigin(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	origins, err := normalizeOrigins(cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	if d.Memories == nil || d.Verifier == nil {
		return nil, errors.New("httpapi: Deps needs Memories and Verifier")
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.BodyLimit < 0 {
		return nil, fmt.Errorf("httpapi: body limit %d is negative", cfg.BodyLimit)
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	if cfg.ReadyCacheTTL == 0 {
		cfg.ReadyCacheTTL = time.Second
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.ReadyTimeout < 0 || cfg.RequestTimeout < 0 {
		return nil, errors.New("httpapi: timeouts must not be negative")
	}
	names := map[string]bool{}
	for _, c := range d.Ready {
		if c.Name == "" || c.Probe == nil || names[c.Name] {
			return nil, fmt.Errorf("httpapi: readiness check %q needs a unique name and a probe", c.Name)
		}
		names[c.Name] = true
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	// Parse the OpenAPI document now, so a broken one stops the start.
	spec, err := OpenAPIDocument()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, origin: origin, origins: origins, d: d, log: d.Logger, e: echo.New()}
	s.spec.doc = spec
	s.e.HideBanner, s.e.HidePort = true, true
	s.e.HTTPErrorHandler = s.handleError
	s.e.Use(s.reportRoute, s.requestID, s.securityHeaders, s.accessLog, s.recoverPanic, s.cors, s.pathGuard, s.tenantQueryGuard, s.consistency, s.bodyLimit)
	s.routes()
	return s, nil
}

// Handler returns the router as an http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Mount serves h at path and every path below it, behind the whole stack
// including authentication; h finds the caller with PrincipalFrom. Scopes
// are left to h, which knows what each of its operations needs.
func (s *Server) Mount(path string, h http.Handler) {
	path = "/" + strings.Trim(path, "/")
	wrapped := echo.WrapHandler(h)
	s.e.Any(path, wrapped, s.authenticate, commitReplayMW)
	s.e.Any(path+"/*", wrapped, s.authenticate, commitReplayMW)
}

// MountPublic serves h at path and below without authentication, for
// documents a client must read before it has a token (OAuth metadata).
func (s *Server) MountPublic(path string, h http.Handler) {
	path = "/" + strings.Trim(path, "/")
	wrapped := echo.WrapHandler(h)
	s.e.Any(path, wrapped)
	s.e.Any(path+"/*", wrapped)
}

// MountRoot serves h at GET / alone (the dashboard's entry), without
// authentication; every other unknown path stays a 404 problem.
func (s *Server) MountRoot(h http.Handler) {
	s.e.GET("/", echo.WrapHandler(h))
}

// route registers an authenticated handler that requires scope.
func (s *Server) route(method, path string, scope domain.Scope, h echo.HandlerFunc) {
	path = "/api/v1" + path
	if s.scopes == nil {
		s.scopes = make(map[string]domain.Scope)
	}
	s.scopes[method+" "+path] = scope
	s.e.Add(method, path, h, s.deadline, s.authenticate, s.rateLimit(routeClass(method, path)), requireScope(scope))
}

func (s *Server) routes() {
	s.e.GET("/healthz", s.healthz)
	s.e.GET("/readyz", s.readyz)
	s.e.GET("/api/v1/openapi.json", s.openAPI)

	s.route(http.MethodPost, "/memories", domain.ScopeMemoriesWrite, s.createMemory)
	s.route(http.MethodGet, "/memories", domain.ScopeMemoriesRead, s.listMemories)
	s.route(http.MethodPost, "/memories/bulk-delete", domain.ScopeMemoriesWrite, s.bulkDelete)
	s.route(http.MethodPost, "/memories/bulk-state", domain.ScopeMemoriesWrite, s.bulkState)
	s.route(http.MethodGet, "/memories/:id", domain.ScopeMemoriesRead, s.getMemory)
	s.route(http.MethodPatch, "/memories/:id", domain.ScopeMemoriesWrite, s.updateMemory)
	s.route(http.MethodDelete, "/memories/:id", domain.ScopeMemoriesWrite, s.deleteMemory)
	s.route(http.MethodGet, "/memories/:id/history", domain.ScopeMemoriesRead, s.memoryHistory)
	s.route(http.MethodGet, "/memories/:id/access", domain.ScopeMemoriesRead, s.memoryAccess)
	s.route(http.MethodGet, "/events/:id", domain.ScopeMemoriesRead, s.getEvent)

	s.route(http.MethodGet, "/apps", domain.ScopeAppsRead, s.listApps)
	s.route(http.MethodGet, "/apps/:id", domain.ScopeAppsRead, s.getApp)
	s.route(http.MethodPatch, "/apps/:id", domain.ScopeAppsWrite, s.updateApp)
	s.route(http.MethodGet, "/apps/:id/memories", domain.ScopeMemoriesRead, s.appMemories)
	s.route(http.MethodGet, "/apps/:id/accessed", domain.ScopeAppsRead, s.appAccessed)
	s.route(http.MethodGet, "/stats", domain.ScopeStatsRead, s.stats)
}

// normalizeOrigin accepts scheme://host[:port] with an optional trailing
// slash and nothing else, lower-cases scheme and host and drops a default
// port, so that joining it with a request path gives the URL a DPoP client
// signs.
func normalizeOrigin(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("httpapi: public URL %q must be http(s)://host[:port]", raw)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("httpapi: public URL %q must have no path, query, fragment or user info", raw)
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if p := u.Port(); (scheme == "http" && p == "80") || (scheme == "https" && p == "443") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return scheme + "://" + host, nil
}
