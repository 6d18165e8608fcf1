package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
)

func init() {
	register("token", command{
		summary: "mint an access token from the zero-config local key: --user U [--org O] [--scopes \"a b\"] [--dpop-jwk FILE]",
		run:     runToken,
	})
}

// knownScopes are the scopes Engram checks; others are minted with a warning
// because a typo would silently yield 403s.
var knownScopes = []domain.Scope{
	domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite, domain.ScopeAppsRead, domain.ScopeAppsWrite,
	domain.ScopeStatsRead, domain.ScopeSessionsRead, domain.ScopeSessionsWrite, domain.ScopeFeedbackRead,
	domain.ScopeFeedbackWrite, domain.ScopeExperimentsRead, domain.ScopeExperimentsWrite,
	domain.ScopeKeysWrite, domain.ScopeKeysProject,
	domain.ScopeEntitiesRead, domain.ScopeEntitiesWrite, domain.ScopeGraphRead,
}

// runToken prints one token on stdout; notes go to stderr so
// `TOKEN=$(engram token --user me)` captures only the token.
func runToken(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "user id (the token's sub); required")
	org := fs.String("org", jwtauth.LocalOrg, "org id (the token's org_id, the tenant)")
	scopes := fs.String("scopes", joinScopes(domain.DefaultUserScopes), "space-separated scopes")
	client := fs.String("client", "", "client_id: the app writes are attributed to by default")
	ttl := fs.Duration("ttl", jwtauth.DefaultTokenTTL, "lifetime of the token")
	dpopJWK := fs.String("dpop-jwk", "", "JWK file of the client's DPoP key; the token is bound to it (cnf.jkt) and only accepted with DPoP proofs")
	dataDir := fs.String("data-dir", "", "data directory holding the local key (default $ENGRAM_DATA_DIR or ./data)")
	audience := fs.String("audience", "", "aud claim (default: what engramd expects, $ENGRAM_AUTH_AUDIENCE or the public URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected arguments %q", fs.Args())
	}
	if *user == "" {
		return errors.New("token: --user is required")
	}
	if *ttl <= 0 || *ttl > 366*24*time.Hour {
		return errors.New("token: --ttl must be between 1s and 366 days")
	}
	cfg, err := tokenConfig(*dataDir, getenv)
	if err != nil {
		return err
	}
	if cfg.JWKSURL != "" {
		return errors.New("token: ENGRAM_AUTH_JWKS_URL is set, so engramd trusts your identity provider, not the local key; get tokens from the provider")
	}
	if *audience != "" {
		cfg.Audience = *audience
	}
	claims := jwtauth.Claims{
		Subject: *user, OrgID: *org, Scopes: domain.ParseScopes(*scopes), ClientID: *client,
		TTL: *ttl, Issuer: cfg.Issuer, Audience: cfg.Audience,
	}
	if len(claims.Scopes) == 0 {
		return errors.New("token: --scopes must name at least one scope")
	}
	for _, s := range claims.Scopes {
		if !slices.Contains(knownScopes, s) {
			fmt.Fprintf(stderr, "engram token: warning: %q is not a scope Engram checks\n", s)
		}
	}
	if *dpopJWK != "" {
		raw, err := os.ReadFile(*dpopJWK)
		if err != nil {
			return fmt.Errorf("token: --dpop-jwk: %w", err)
		}
		if claims.JKT, err = jwtauth.ThumbprintJWK(raw); err != nil {
			return fmt.Errorf("token: --dpop-jwk %s: %w", *dpopJWK, err)
		}
	}
	key, created, err := jwtauth.LoadOrCreateLocalKey(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if created {
		fmt.Fprintf(stderr, "engram token: created a new local signing key at %s\n", key.Path())
	}
	tok, err := key.Mint(claims)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// tokenConfig resolves data dir, issuer and audience exactly as engramd does,
// from the same ENGRAM_* variables. The loopback-only rule of the local key
// concerns the listener, which this command does not open, so it is waived.
func tokenConfig(dataDir string, getenv func(string) string) (config.Config, error) {
	var args []string
	if dataDir != "" {
		args = []string{"--data-dir", dataDir}
	}
	return config.Load(args, func(k string) string {
		if k == "ENGRAM_INSECURE_LOCAL_KEY" {
			return "true"
		}
		return getenv(k)
	})
}

func joinScopes(s []domain.Scope) string {
	names := make([]string, len(s))
	for i, x := range s {
		names[i] = string(x)
	}
	return strings.Join(names, " ")
}
