package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/mcpserver"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("mcp", command{
		summary: "MCP server on stdio: on the embedded store in --data-dir, or --remote URL --token T to proxy an engramd",
		run:     runMCP,
	})
}

// runMCP speaks MCP on stdin/stdout, so everything else (logs, errors) goes
// to stderr: one stray byte on stdout would corrupt the client's stream.
func runMCP(ctx context.Context, args []string, getenv func(string) string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "data directory of the embedded store and local key (default $ENGRAM_DATA_DIR or ./data, as engramd)")
	remote := fs.String("remote", getenv("ENGRAM_REMOTE"), "base URL of a remote engramd to proxy, e.g. https://engram.example.com ($ENGRAM_REMOTE)")
	token := fs.String("token", getenv("ENGRAM_TOKEN"), "access token: required with --remote; locally, act as its subject ($ENGRAM_TOKEN)")
	user := fs.String("user", wiring.LocalUser, "user to act as in zero-config mode when no --token is given")
	org := fs.String("org", jwtauth.LocalOrg, "org of --user")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: engram mcp [--data-dir DIR] [--token T]    MCP on stdio over this machine's store (as engramd would see it)")
		fmt.Fprintln(stderr, "       engram mcp --remote URL --token T         MCP on stdio, forwarded to a remote engramd's /mcp")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("mcp: unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *remote != "" {
		if *token == "" {
			return errors.New("mcp: --remote needs --token (or ENGRAM_TOKEN)")
		}
		return mcpserver.ServeProxy(ctx, mcpserver.ProxyConfig{
			Endpoint: remoteEndpoint(*remote), Token: *token, Version: "dev",
		}, &mcp.StdioTransport{})
	}
	return serveLocalMCP(ctx, getenv, *dataDir, *token, domain.Principal{
		OrgID: domain.OrgID(*org), UserID: domain.UserID(*user), Scopes: domain.DefaultUserScopes,
	}, log)
}

// remoteEndpoint accepts either the server's base URL or its /mcp URL.
func remoteEndpoint(u string) string {
	u = strings.TrimRight(u, "/")
	if strings.HasSuffix(u, "/mcp") {
		return u
	}
	return u + "/mcp"
}

// serveLocalMCP builds the same system engramd would from the ENGRAM_*
// settings (store, sessions, search, verifier) and serves its MCP tools on
// stdio. With a token it acts as the token's subject, verified exactly as
// engramd would; without one, as the zero-config local user.
func serveLocalMCP(ctx context.Context, getenv func(string) string, dataDir, token string, p domain.Principal, log *slog.Logger) error {
	var args []string
	if dataDir != "" {
		args = append(args, "--data-dir", dataDir)
	}
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return err
	}
	sys, err := wiring.Build(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("mcp: %w", err)
	}
	defer sys.Close()
	// erase_my_data starts a job: this process runs it, as engramd would
	// (another server on the same store may work it too; steps are
	// idempotent).
	sys.StartPrivacyWorker()
	switch {
	case token != "":
		p, err = sys.Verifier.Verify(ctx, ports.Credentials{Scheme: "Bearer", Token: token, Method: "POST", URL: cfg.PublicURL + "/mcp"})
		if err != nil {
			return fmt.Errorf("mcp: --token: %w", err)
		}
	case sys.LocalKey == nil:
		return errors.New("mcp: with an external token issuer (ENGRAM_AUTH_JWKS_URL) --token is required")
	}
	return sys.MCP.ServeStdio(ctx, p)
}
