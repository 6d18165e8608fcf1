package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// wantsSubjectExport reports whether engram export was asked for a subject
// access document (--subject) rather than an archive.
func wantsSubjectExport(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		return a == "--subject" || a == "-subject" || a == "--subject=true" || a == "-subject=true"
	})
}

// runSubjectExport writes the subject access (SAR) document of one user,
// the same document GET /api/v1/me/export streams to the user
// (docs/privacy.md), and records it in the audit trail. It is the operator's
// path, for a request that reaches the operator another way (mail, a form).
// Sessions in an engramd's in-process store are out of its reach; with
// Valkey they are included.
func runSubjectExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export --subject", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url", "valkey-url", "valkey-prefix", "privacy-key")
	fs.Bool("subject", true, "write a subject access document instead of an archive")
	out := fs.String("o", "-", "file to write (- for standard output)")
	org := fs.String("org", "", "org of the subject (required)")
	user := fs.String("user", "", "the subject (required)")
	actor := fs.String("actor", "operator", "who asks, recorded in the audit trail only as a keyed hash")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t := domain.Tenant{OrgID: domain.OrgID(*org), UserID: domain.UserID(*user)}
	if fs.NArg() > 0 || t.Validate() != nil {
		return errors.New("export: usage: engram export --subject --org ORG --user USER [-o FILE]")
	}
	cfg, err := cc.Load()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	sys, err := wiring.Build(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() { _ = sys.Close() }()
	w := stdout
	if *out != "-" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := sys.Privacy.ExportAsOperator(ctx, t, *actor, w); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
