package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/oauthserver"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// newOAuthServer builds the built-in authorization server when tokens are
// signed by the local key (zero-config and small-team profiles); with an
// external issuer (ENGRAM_AUTH_JWKS_URL) it returns nil: that issuer is
// the authorization server. Its access tokens are the local tokens of
// `engram token`, with a short lifetime.
func newOAuthServer(cfg config.Config, log *slog.Logger, a auth, store ports.OAuthStore, limiter ports.RateLimiter) (*oauthserver.Server, error) {
	key := a.LocalKey
	if key == nil || a.Local == nil {
		return nil, nil
	}
	if store == nil || limiter == nil {
		return nil, fmt.Errorf("wiring: the authorization server needs the store's oauth tables and a rate limiter")
	}
	return oauthserver.New(oauthserver.Config{
		Issuer: cfg.PublicURL, TLS: cfg.TLSCert != "" || strings.HasPrefix(cfg.PublicURL, "https://"),
		Scopes: dashboardScopes, DefaultScopes: domain.DefaultUserScopes, DPoPAlgs: jwtauth.Algorithms(),
	}, oauthserver.Deps{
		Store: store, Limiter: limiter, Logger: log, ProofKey: a.Local.TokenRequestProof,
		Mint: func(a oauthserver.AccessToken) (string, error) {
			return key.Mint(jwtauth.Claims{
				Subject: string(a.Tenant.UserID), OrgID: string(a.Tenant.OrgID), Scopes: a.Scopes,
				TTL: a.TTL, JKT: a.JKT, Issuer: cfg.Issuer, Audience: cfg.Audience,
			})
		},
	})
}

// mountOAuth serves the authorization server's endpoints beside the API.
func mountOAuth(api *httpapi.Server, as *oauthserver.Server) {
	if as == nil {
		return
	}
	for _, p := range oauthserver.Paths() {
		api.MountPublic(p, as.Handler())
	}
}

// IssueSignInCode gives the local user a fresh one-time sign-in code for
// the built-in authorization server (printed at start, or by `engram user
// code`).
func (s *System) IssueSignInCode(ctx context.Context) (string, error) {
	if s.OAuth == nil {
		return "", fmt.Errorf("the built-in authorization server is off (an external issuer is configured)")
	}
	return oauthserver.IssueSignInCode(ctx, s.oauthStore, domain.Tenant{OrgID: jwtauth.LocalOrg, UserID: LocalUser}, time.Now())
}

// Users is what `engram user` needs: the store's users, and whether the
// built-in authorization server would run with this configuration.
type Users struct {
	Store ports.OAuthStore
	// Off says why the authorization server is off; empty when it runs.
	Off string
}

// OpenUsers opens the store for `engram user`. close releases it.
func OpenUsers(ctx context.Context, cfg config.Config, log *slog.Logger) (Users, func() error, error) {
	b, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return Users{}, nil, err
	}
	u := Users{Store: b.OAuth}
	if cfg.JWKSURL != "" {
		u.Off = "ENGRAM_AUTH_JWKS_URL is set: the external issuer signs users in, not engramd"
	}
	return u, b.Close, nil
}
