package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/engram-memory/engram/adapters/dashboard"
	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/oauthserver"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// dashboardScopes are what the dashboard asks the user to grant: the local
// owner's scopes and experiments:read (org-level aggregate results).
var dashboardScopes = append(append([]domain.Scope{}, domain.LocalOwnerScopes...), domain.ScopeExperimentsRead)

// mountDashboard serves the web dashboard at / and /ui/. It signs users
// in at the built-in authorization server when that runs (its OAuth
// client is registered here, named by its redirect URI), or with an
// external issuer at that issuer when ENGRAM_DASHBOARD_OIDC_CLIENT_ID
// names the dashboard's client there; otherwise / stays 404.
func mountDashboard(ctx context.Context, cfg config.Config, log *slog.Logger, api *httpapi.Server, as *oauthserver.Server, store ports.OAuthStore, sessions ports.UISessionStore, verifier ports.TokenVerifier, metrics prometheus.Gatherer) error {
	if as == nil {
		return mountExternalDashboard(cfg, log, api, sessions, verifier, metrics)
	}
	id := dashboard.ClientIDFor(cfg.PublicURL)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := store.GetClient(ctx, id); errors.Is(err, domain.ErrNotFound) {
		err = store.CreateClient(ctx, domain.OAuthClient{ID: id, Name: "Engram dashboard",
			RedirectURIs: []string{dashboard.RedirectURI(cfg.PublicURL)}, CreatedAt: time.Now().UTC()})
		if err != nil && !errors.Is(err, domain.ErrAlreadyExists) {
			return fmt.Errorf("wiring: register the dashboard's OAuth client: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("wiring: look up the dashboard's OAuth client: %w", err)
	}
	scopes := make([]string, len(dashboardScopes))
	for i, sc := range dashboardScopes {
		scopes[i] = string(sc)
	}
	x, err := dashboard.New(dashboard.Config{
		PublicURL: cfg.PublicURL, TLS: cfg.TLSCert != "" || strings.HasPrefix(cfg.PublicURL, "https://"),
		ClientID: id, Scopes: scopes, MaxImportBytes: cfg.ImportMaxBytes,
	}, dashboard.Deps{API: api.Handler(), OAuth: as.Handler(), Sessions: sessions, Logger: log, Metrics: metrics})
	if err != nil {
		return err
	}
	api.MountPublic("/ui", x.Handler())
	api.MountRoot(x.Handler())
	return nil
}

// mountExternalDashboard serves the dashboard signing in at the external
// issuer (ENGRAM_DASHBOARD_OIDC_*): the access token it returns is
// checked by the API's verifier and used against the API like any other
// client's, with the scopes the issuer granted.
func mountExternalDashboard(cfg config.Config, log *slog.Logger, api *httpapi.Server, sessions ports.UISessionStore, verifier ports.TokenVerifier, metrics prometheus.Gatherer) error {
	if cfg.JWKSURL == "" || cfg.DashboardClientID == "" {
		return nil
	}
	scopes := strings.Fields(cfg.DashboardScopes)
	if len(scopes) == 0 {
		scopes = []string{"openid", "offline_access"}
		for _, sc := range dashboardScopes {
			scopes = append(scopes, string(sc))
		}
	}
	x, err := dashboard.New(dashboard.Config{
		PublicURL: cfg.PublicURL, TLS: cfg.TLSCert != "" || strings.HasPrefix(cfg.PublicURL, "https://"),
		ClientID: cfg.DashboardClientID, Scopes: scopes, MaxImportBytes: cfg.ImportMaxBytes,
		Issuer: cfg.DashboardIssuer, ClientSecret: cfg.DashboardClientSecret, Audience: cfg.DashboardAudience,
	}, dashboard.Deps{API: api.Handler(), Verifier: verifier, Sessions: sessions, Logger: log, Metrics: metrics})
	if err != nil {
		return err
	}
	api.MountPublic("/ui", x.Handler())
	api.MountRoot(x.Handler())
	return nil
}
