package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/mcpserver"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("mcp", command{
		summary: "MCP server on stdio: on the embedded store in --data-dir, or --remote URL --token T to proxy an engramd",
		run:     runMCP,
	})
}

// sqliteFile is the embedded store's file inside the data directory, the
// same file engramd's zero-config start uses.
const sqliteFile = "engram.db"

// localUser is who the embedded stdio server acts as when no token is given:
// the zero-config local user of org jwtauth.LocalOrg.
const localUser = "local"

// runMCP speaks MCP on stdin/stdout, so everything else (logs, errors) goes
// to stderr: one stray byte on stdout would corrupt the client's stream.
func runMCP(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("ENGRAM_DATA_DIR", "./data"), "data directory of the embedded store and local key ($ENGRAM_DATA_DIR)")
	remote := fs.String("remote", os.Getenv("ENGRAM_REMOTE"), "base URL of a remote engramd to proxy, e.g. https://engram.example.com ($ENGRAM_REMOTE)")
	token := fs.String("token", os.Getenv("ENGRAM_TOKEN"), "access token: required with --remote; locally, act as its subject ($ENGRAM_TOKEN)")
	user := fs.String("user", localUser, "user to act as on the embedded store when no --token is given")
	org := fs.String("org", jwtauth.LocalOrg, "org of --user")
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
	return serveLocalMCP(ctx, *dataDir, *token, domain.Principal{
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

func serveLocalMCP(ctx context.Context, dataDir, token string, p domain.Principal, log *slog.Logger) error {
	if token != "" {
		var err error
		if p, err = localPrincipal(ctx, dataDir, token); err != nil {
			return err
		}
	}
	store, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(dataDir, sqliteFile)})
	if err != nil {
		return fmt.Errorf("mcp: open store: %w", err)
	}
	defer store.Close()
	mem := app.NewMemoryService(app.MemoryDeps{Memories: store, Apps: store, Access: store, Logger: log})
	srv := mcpserver.New(mcpserver.Config{Logger: log}, mcpserver.Deps{Memories: mem})
	return srv.ServeStdio(ctx, p)
}

// localPrincipal verifies a token minted by the data directory's local key,
// so the stdio server acts as exactly the user engramd would.
func localPrincipal(ctx context.Context, dataDir, token string) (domain.Principal, error) {
	key, _, err := jwtauth.LoadOrCreateLocalKey(dataDir)
	if err != nil {
		return domain.Principal{}, fmt.Errorf("mcp: local key: %w", err)
	}
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	defer replay.Close()
	v, err := jwtauth.NewLocal(key, jwtauth.Config{ReplayCache: replay})
	if err != nil {
		return domain.Principal{}, fmt.Errorf("mcp: local verifier: %w", err)
	}
	p, err := v.Verify(ctx, ports.Credentials{Scheme: "Bearer", Token: token})
	if err != nil {
		return domain.Principal{}, fmt.Errorf("mcp: --token: %w", err)
	}
	return p, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
