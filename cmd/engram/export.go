package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("export", command{
		summary: "write an archive (.engram) of the instance, an org or a user",
		run:     runExport,
	})
}

func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if wantsSubjectExport(args) {
		// A subject access document, not an archive (export_subject.go).
		return runSubjectExport(ctx, args, getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addArchiveStoreFlags(fs, getenv, vectorFlags...)
	out := fs.String("o", "", "archive file to write (required; - for standard output)")
	withVectors := fs.Bool("with-vectors", false, "add every active memory's embedding, by the configured embedder, so that an import into the same model need not embed (docs/archive.md, \"Vectors\")")
	org := fs.String("org", "", "export this org only")
	user := fs.String("user", "", "export this user of --org only")
	since := fs.String("since", "", "incremental: rows changed at or after this RFC 3339 time, or this long ago (24h)")
	omit := fs.String("omit", "", "optional tables to leave out, comma-separated: memory_access,feedback_events,query_logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return errors.New("export: usage: engram export -o FILE [--org ORG [--user USER]] [--since T] [--omit TABLES]")
	}
	scope, err := exportScope(*org, *user, *since)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	be, err := sf.open(ctx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer be.Close()
	emb, closeVectors, err := exportEmbedder(sf, be, *withVectors)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer closeVectors()
	start := time.Now()
	m, err := writeArchive(ctx, *out, stdout, func(w io.Writer) (archive.Manifest, error) {
		return archive.Export(ctx, be.Source, w, archive.ExportOptions{Scope: scope, Omit: splitList(*omit),
			SchemaVersion: be.SchemaVersion, Profile: be.Profile, Embedder: emb})
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	printManifest(stderr, m, time.Since(start))
	return nil
}

func exportScope(org, user, since string) (ports.ArchiveScope, error) {
	s := ports.ArchiveScope{Org: domain.OrgID(org), User: domain.UserID(user)}
	if user != "" && org == "" {
		return s, errors.New("--user needs --org")
	}
	if org != "" {
		u := s.User
		if u == "" {
			u = "any"
		}
		if err := (domain.Tenant{OrgID: s.Org, UserID: u}).Validate(); err != nil {
			return s, err
		}
	}
	var err error
	s.Since, err = parseSince(since, time.Now())
	return s, err
}

// writeArchive writes to path through a temporary file renamed at the end,
// so that a failed export never leaves a file that looks like an archive.
func writeArchive(_ context.Context, path string, stdout io.Writer, write func(io.Writer) (archive.Manifest, error)) (archive.Manifest, error) {
	if path == "-" {
		return write(stdout)
	}
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return archive.Manifest{}, err
	}
	m, err := write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return archive.Manifest{}, err
	}
	return m, nil
}

func printManifest(w io.Writer, m archive.Manifest, took time.Duration) {
	var rows int64
	for _, x := range m.Members {
		fmt.Fprintf(w, "  %-24s %10d rows  sha256 %s\n", x.Table, x.Rows, x.SHA256[:16])
		rows += x.Rows
	}
	if v := m.Vectors; v != nil {
		fmt.Fprintf(w, "  vectors: %s, %d dimensions\n", v.Model, v.Dimension)
	}
	fmt.Fprintf(w, "exported %d rows (%s scope) in %s (%.0f rows/s)\n", rows, m.Scope.Kind, took.Round(time.Millisecond),
		float64(rows)/max(took.Seconds(), 1e-9))
}

// exportEmbedder is the embedder of an export --with-vectors (nil
// without), and what releases it.
func exportEmbedder(sf *archiveStoreFlags, be wiring.ArchiveBackend, with bool) (ports.Embedder, func(), error) {
	if !with {
		return nil, func() {}, nil
	}
	av, err := sf.vectors(be)
	if err != nil {
		return nil, nil, err
	}
	return av.Embedder, func() { _ = av.Close() }, nil
}
