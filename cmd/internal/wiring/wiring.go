// Package wiring is the one place that chooses adapters: it turns a
// config.Config into a running System (stores, caches, verifier, use cases
// and transports) with an explicit switch per port. engramd and the engram
// CLI share it, so both see the same backends the same way.
package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/mcpserver"
	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
)

// Store is what every system-of-record adapter implements.
type Store interface {
	ports.MemoryStore
	ports.AppStore
	ports.AccessLog
}

// System is a wired Engram: the use cases, the HTTP handler and what it
// takes to close it all.
type System struct {
	Config   config.Config
	Logger   *slog.Logger
	Store    Store
	Memories *app.MemoryService
	Verifier ports.TokenVerifier
	Replay   ports.ReplayCache
	Limiter  ports.RateLimiter
	Sessions ports.SessionStore
	// Idempotency keeps Idempotency-Key answers per principal for 24 h.
	Idempotency ports.IdempotencyStore
	// Use cases beyond memories.
	Search      *app.SearchService
	Indexer     *app.Indexer
	Feedback    *app.FeedbackService
	Experiments *app.ExperimentService
	Searcher    *app.ExperimentSearch // search with experiment variants and query logging
	SessionSvc  *app.SessionService
	RateLimits  *app.RateLimitService // nil when every ENGRAM_RATE_* is 0
	API         *httpapi.Server
	MCP         *mcpserver.Server
	// LocalKey is set in zero-config mode: tokens are minted from it.
	LocalKey  *jwtauth.LocalKey
	Checks    []httpapi.Check
	closers   []func() error
	raw       any    // the undecorated store adapter, for its extra ports
	storeName string // "sqlite" or "postgres": the store's dependency name
}

// Close releases every backend in reverse order of opening.
func (s *System) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

func (s *System) onClose(f func() error) { s.closers = append(s.closers, f) }

// Build opens every backend named by cfg and wires the use cases and
// transports. On error everything opened so far is closed.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *System, err error) {
	sys := &System{Config: cfg, Logger: log}
	defer func() {
		if err != nil {
			_ = sys.Close()
		}
	}()
	if err := sys.openStore(ctx); err != nil {
		return nil, err
	}
	if err := sys.openCaches(ctx); err != nil {
		return nil, err
	}
	if err := sys.openVerifier(ctx); err != nil {
		return nil, err
	}
	search, err := sys.openSearch(ctx)
	if err != nil {
		return nil, err
	}
	sys.Indexer = search.indexer
	sys.Memories = app.NewMemoryService(app.MemoryDeps{
		Memories: sys.Store, Apps: sys.Store, Access: sys.Store, Logger: log,
		Observers: []app.ChangeObserver{search.indexer},
	})
	// Closed before the store (closers run in reverse): queued access-log
	// entries are written first.
	sys.onClose(func() error { sys.Memories.Close(); return nil })
	sys.Search = app.NewSearchService(app.SearchDeps{
		Memories: sys.Store, Text: search.text, Vectors: search.vectors, Embedder: search.embedder,
		Reads: sys.Memories, Logger: log,
	})
	if err := sys.buildFeedback(); err != nil {
		return nil, err
	}
	sys.SessionSvc = app.NewSessionService(app.SessionDeps{
		Sessions: sys.Sessions, Memories: sys.Memories, Finder: sys.Search, Logger: log,
	})
	if err := sys.buildRateLimits(); err != nil {
		return nil, err
	}
	if err := sys.buildTransports(); err != nil {
		return nil, err
	}
	return sys, nil
}

func (s *System) openCaches(ctx context.Context) error {
	cfg := s.Config
	switch {
	case cfg.ValkeyURL != "":
		vs, err := valkeystore.Open(ctx, valkeystore.Config{URL: cfg.ValkeyURL, Options: valkeystore.Options{Prefix: cfg.ValkeyPrefix}})
		if err != nil {
			return fmt.Errorf("ENGRAM_VALKEY_URL: %w", err)
		}
		s.onClose(vs.Close)
		s.Replay, s.Limiter, s.Sessions = s.decorateReplay("valkey", vs), s.decorateLimiter("valkey", vs), s.decorateSessions("valkey", vs)
		s.Idempotency = s.decorateIdempotency("valkey", vs)
		s.Checks = append(s.Checks, httpapi.Check{Name: "valkey", Required: true, Probe: vs.Ping})
		// Reported, not required: an evicted replay key weakens DPoP replay
		// protection but does not stop service. The check's name says
		// what /readyz expects.
		s.Checks = append(s.Checks, httpapi.Check{Name: "valkey_maxmemory_policy_noeviction", Probe: func(ctx context.Context) error {
			policy, err := vs.MaxMemoryPolicy(ctx)
			if err == nil && policy != "noeviction" {
				err = fmt.Errorf("valkey maxmemory-policy is %q; DPoP replay keys need noeviction", policy)
			}
			return err
		}})
		if policy, err := vs.MaxMemoryPolicy(ctx); err != nil {
			s.Logger.Warn("could not read valkey maxmemory-policy", "err", err)
		} else if policy != "noeviction" {
			s.Logger.Warn("valkey maxmemory-policy is not noeviction: an evicted DPoP jti can be replayed; set maxmemory-policy noeviction", "policy", policy)
		}
	default:
		replay := inproc.NewReplayCache(inproc.ReplayOptions{})
		limiter := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
		sessions := inproc.NewSessionStore(inproc.SessionOptions{})
		s.onClose(func() error { replay.Close(); limiter.Close(); sessions.Close(); return nil })
		s.Replay, s.Limiter, s.Sessions = s.decorateReplay("inproc", replay), s.decorateLimiter("inproc", limiter), s.decorateSessions("inproc", sessions)
		idem := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{})
		s.onClose(idem.Close)
		s.Idempotency = s.decorateIdempotency("inproc", idem)
	}
	return nil
}

func (s *System) openVerifier(ctx context.Context) error {
	cfg := s.Config
	jc := jwtauth.Config{
		Issuer: cfg.Issuer, Audience: cfg.Audience, PublicURL: cfg.PublicURL, ReplayCache: s.Replay,
	}
	if cfg.JWKSURL != "" {
		jc.JWKSURL = cfg.JWKSURL
		v, err := jwtauth.NewJWKS(ctx, jc)
		if err != nil {
			return fmt.Errorf("ENGRAM_AUTH_JWKS_URL: %w", err)
		}
		s.onClose(func() error { v.Close(); return nil })
		s.Verifier = v
		s.Checks = append(s.Checks, httpapi.Check{Name: "jwks", Required: true, Probe: v.Ready})
		return nil
	}
	key, _, err := jwtauth.LoadOrCreateLocalKey(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("ENGRAM_DATA_DIR: local signing key: %w", err)
	}
	v, err := jwtauth.NewLocal(key, jc)
	if err != nil {
		return err
	}
	s.onClose(func() error { v.Close(); return nil })
	s.Verifier, s.LocalKey = v, key
	return nil
}

func (s *System) buildTransports() error {
	cfg := s.Config
	api, err := httpapi.New(httpapi.Config{
		PublicURL: cfg.PublicURL, BodyLimit: cfg.BodyLimit, TLS: cfg.TLSCert != "",
	}, httpapi.Deps{Memories: s.Memories, Verifier: s.Verifier, Ready: s.Checks, RateLimits: s.RateLimits, Logger: s.Logger})
	if err != nil {
		return err
	}
	api.EnableSearch(s.Searcher)
	api.EnableFeedback(s.Feedback, s.Experiments)
	api.EnableSessions(s.SessionSvc)
	api.EnableIdempotency(s.Idempotency)
	api.EnableArchive(s.archiveDeps())
	deps := mcpserver.Deps{Memories: s.Memories, Verifier: s.Verifier, Searcher: s.Searcher, Sessions: s.SessionSvc}
	if s.RateLimits != nil {
		deps.Limits = s.RateLimits
	}
	s.MCP = mcpserver.New(mcpserver.Config{
		PublicURL:            cfg.PublicURL,
		Resource:             cfg.Audience,
		AuthorizationServers: strings.Fields(cfg.AuthServers),
		AllowedOrigins:       strings.Fields(cfg.AllowedOrigins),
		MaxBodyBytes:         cfg.BodyLimit,
		Logger:               s.Logger,
		Tracer:               s.Telemetry().Tracer(),
	}, deps)
	// The MCP handler authenticates every request itself (it must answer
	// 401 with resource_metadata, and verifying a DPoP proof twice would
	// trip the replay check), so it is mounted without the API's auth.
	api.MountPublic("/mcp", s.MCP.Handler())
	api.MountPublic(mcpserver.MetadataPath, s.MCP.MetadataHandler())
	s.API = api
	return nil
}

// Handler is the HTTP handler engramd serves.
// Every request is traced and counted per route (engram_http_*), continuing
// the caller's traceparent.
func (s *System) Handler() http.Handler { return s.ObservedHandler(s.API.Handler()) }

// SQLitePath is where the embedded store keeps its file.
func SQLitePath(dataDir string) string { return filepath.Join(dataDir, "engram.db") }
