package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/mcpserver"
	"github.com/engram-memory/engram/adapters/oauthserver"
	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
)

// auth is the token verifier cfg names, with the local key in zero-config
// mode.
type auth struct {
	Verifier ports.TokenVerifier
	LocalKey *jwtauth.LocalKey
	// Local is the verifier of the local key's tokens, which also checks
	// the DPoP proofs of the built-in authorization server's token
	// requests; nil with a JWKS.
	Local  *jwtauth.Verifier
	Checks []httpapi.Check
	Close  func() error
}

// openVerifier trusts the JWKS at ENGRAM_AUTH_JWKS_URL, or else the local
// Ed25519 key in the data directory (created on first use).
func openVerifier(ctx context.Context, cfg config.Config, replay ports.ReplayCache) (auth, error) {
	jc := jwtauth.Config{
		Issuer: cfg.Issuer, Audience: cfg.Audience, PublicURL: cfg.PublicURL, ReplayCache: replay,
		RequireATJWT: cfg.RequireATJWT, Resource: cfg.PublicURL,
	}
	switch {
	case cfg.JWKSURL != "":
		jc.JWKSURL = cfg.JWKSURL
		v, err := jwtauth.NewJWKS(ctx, jc)
		if err != nil {
			return auth{}, fmt.Errorf("ENGRAM_AUTH_JWKS_URL: %w", err)
		}
		return auth{Verifier: v, Checks: []httpapi.Check{{Name: "jwks", Required: true, Probe: v.Ready}},
			Close: func() error { v.Close(); return nil }}, nil
	default:
		key, _, err := jwtauth.LoadOrCreateLocalKey(cfg.DataDir)
		if err != nil {
			return auth{}, fmt.Errorf("ENGRAM_DATA_DIR: local signing key: %w", err)
		}
		v, err := jwtauth.NewLocal(key, jc)
		if err != nil {
			return auth{}, err
		}
		return auth{Verifier: v, LocalKey: key, Local: v, Close: func() error { v.Close(); return nil }}, nil
	}
}

type transportDeps struct {
	core        Core
	svc         services
	verifier    ports.TokenVerifier
	checks      []httpapi.Check
	idempotency ports.IdempotencyStore
	archive     httpapi.ArchiveDeps
	keys        *app.KeyService
	owners      ports.MemoryOwners
	oauth       *oauthserver.Server
	// grants is set when the built-in authorization server runs.
	grants    *app.GrantService
	positions ports.CommitPositions
}

// newTransports builds the REST API with the MCP endpoint mounted on it.
func newTransports(cfg config.Config, log *slog.Logger, tel *telemetry.T, d transportDeps) (*httpapi.Server, *mcpserver.Server, error) {
	// One guard for both transports: a client cannot spend one budget of
	// failed authentications on the API and another on /mcp.
	var guard *app.AddressGuard
	if cfg.RateAuthFailures > 0 {
		var err error
		if guard, err = app.NewAddressGuard(cfg.RateAuthFailures, nil, 0); err != nil {
			return nil, nil, err
		}
	}
	api, err := httpapi.New(httpapi.Config{
		PublicURL: cfg.PublicURL, BodyLimit: cfg.BodyLimit, TLS: cfg.TLSCert != "",
		AllowedOrigins: strings.Fields(cfg.AllowedOrigins),
	}, httpapi.Deps{Memories: d.core.Memories, Inference: d.svc.inference, Verifier: d.verifier, Ready: d.checks, RateLimits: d.svc.rateLimits, Logger: log,
		AddressGuard: guard, OnUnavailable: tel.RecordUnavailable, Positions: d.positions})
	if err != nil {
		return nil, nil, err
	}
	api.EnableSearch(d.svc.searcher)
	api.EnableFeedback(d.svc.feedback, d.svc.experiments)
	api.EnableSessions(d.svc.sessions)
	api.EnableIdempotency(d.idempotency)
	api.EnableArchive(d.archive)
	api.EnableKeys(d.keys)
	api.EnableGrants(d.grants)
	api.EnableMem0(httpapi.Mem0Deps{Search: d.svc.searcher, Owners: d.owners})
	api.EnablePrivacy(d.svc.privacy)
	api.EnableGraph(d.core.Graph)
	deps := mcpserver.Deps{Memories: d.core.Memories, Verifier: d.verifier, Searcher: d.svc.searcher, Sessions: d.svc.sessions, AddressGuard: guard, Positions: d.positions, Graph: d.core.Graph, Inference: d.svc.inference}
	if d.svc.rateLimits != nil {
		deps.Limits = d.svc.rateLimits
	}
	if d.svc.privacy != nil {
		deps.Privacy = d.svc.privacy
	}
	mcp := mcpserver.New(mcpserver.Config{
		PublicURL: cfg.PublicURL,
		// RFC 9728: the resource is a URL, the one clients reach us at;
		// the verifier accepts it as aud beside ENGRAM_AUTH_AUDIENCE.
		Resource:             cfg.PublicURL,
		AuthorizationServers: authServers(cfg, d.oauth),
		AllowedOrigins:       strings.Fields(cfg.AllowedOrigins),
		MaxBodyBytes:         cfg.BodyLimit,
		MaxSessionsPerUser:   cfg.MCPSessionsUser,
		SessionTimeout:       cfg.MCPSessionIdle,
		SessionMaxLifetime:   cfg.MCPSessionMaxAge,
		Logger:               log,
		Tracer:               tel.Tracer(),
	}, deps)
	// The MCP handler authenticates every request itself (it must answer
	// 401 with resource_metadata, and verifying a DPoP proof twice would
	// trip the replay check), so it is mounted without the API's auth.
	api.MountPublic("/mcp", mcp.Handler())
	api.MountPublic(mcpserver.MetadataPath, mcp.MetadataHandler())
	mountOAuth(api, d.oauth)
	return api, mcp, nil
}

// authServers are the issuers the protected-resource metadata names:
// ENGRAM_AUTH_SERVERS when set, else the built-in authorization server
// when it runs.
func authServers(cfg config.Config, as *oauthserver.Server) []string {
	if servers := strings.Fields(cfg.AuthServers); len(servers) > 0 || as == nil {
		return servers
	}
	return []string{as.Issuer()}
}
