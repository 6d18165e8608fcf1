package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/logging"
	"github.com/engram-memory/engram/cmd/internal/wiring"
)

// run is engramd without the process around it: config from args and
// getenv, logs to stderr, the first-start token to stdout. It returns nil
// after a clean drain when ctx ends (SIGTERM).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		config.Usage(stdout, "engramd")
		return nil
	}
	if err != nil {
		return err
	}
	log, level := logging.New(stderr, cfg.LogFormat, cfg.LogLevel)
	// Log lines written inside a traced request carry its trace_id.
	// and, when written with the request's context, its request_id.
	log = slog.New(httpapi.WithRequestID(telemetry.LogHandler(log.Handler())))
	log.Info("engramd starting", "config", cfg.String())

	sys, err := wiring.Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := sys.Close(); cerr != nil {
			log.Warn("closing backends", "err", cerr)
		}
	}()
	// Erasure jobs run in the background: started here, by another server,
	// or left unfinished by a crash.
	sys.StartPrivacyWorker()
	if sys.LocalKey != nil {
		if err := printLocalToken(sys, stdout, log); err != nil {
			return err
		}
	}

	stopAdmin, err := startAdmin(ctx, sys, level)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stopAdmin(sctx)
	}()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("ENGRAM_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           sys.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if cfg.TLSCert != "" {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	serveErr := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			serveErr <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	log.Info("engramd listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
	announce(ln.Addr().String())

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Drain: stop accepting, let in-flight requests finish, then close the
	// backends (deferred above).
	log.Info("engramd draining", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("engramd stopped")
	return nil
}

// printLocalToken tells a newcomer how to call the API: a ready token for
// the local user and the file it is kept in.
func printLocalToken(sys *wiring.System, stdout io.Writer, log *slog.Logger) error {
	tok, path, fresh, err := sys.EnsureLocalToken()
	if err != nil {
		return err
	}
	if fresh {
		fmt.Fprintf(stdout, "\nEngram zero-config mode: tokens are signed by the local key in %s\n", sys.LocalKey.Path())
		fmt.Fprintf(stdout, "A token for user %q (org %q) is saved in %s:\n\n%s\n\n", wiring.LocalUser, "local", path, tok)
		fmt.Fprintf(stdout, "Try it:\n  curl -H \"Authorization: Bearer $(cat %s)\" %s/api/v1/memories\n\n", path, sys.Config.PublicURL)
	} else {
		fmt.Fprintf(stdout, "Engram zero-config mode: the local user's token is in %s\n", path)
	}
	log.Info("local token ready", "file", path, "minted", fresh)
	if sys.OAuth != nil {
		// A fresh one-time code on every start: MCP clients that sign in
		// through the browser (mcp-remote, Claude's custom connectors)
		// need no pasted token.
		code, err := sys.IssueSignInCode(context.Background())
		if err != nil {
			return fmt.Errorf("one-time sign-in code: %w", err)
		}
		fmt.Fprintf(stdout, "OAuth sign-in (MCP clients, browsers): user %q, organisation %q, one-time code %s (valid 24 h; `engram user code` prints a new one)\n",
			wiring.LocalUser, "local", code)
	}
	return nil
}
