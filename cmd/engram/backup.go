package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("backup", command{
		summary: "write an archive of the whole instance; `backup verify FILE` proves one restores",
		run:     runBackup,
	})
	register("restore", command{
		summary: "restore a backup archive into an empty store (resumable)",
		run:     runRestore,
	})
}

func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "verify" {
		return runBackupVerify(ctx, args[1:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addArchiveStoreFlags(fs, getenv, vectorFlags...)
	out := fs.String("o", "", "archive file to write")
	withVectors := fs.Bool("with-vectors", false, "add every active memory's embedding, by the configured embedder, so that a restore into the same model need not embed")
	dir := fs.String("dir", "", "write engram-<profile>-<UTC time>.engram into this directory instead of -o")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*out == "") == (*dir == "") || fs.NArg() > 0 {
		return errors.New("backup: usage: engram backup (-o FILE | --dir DIR) [--data-dir D | --postgres-url URL]")
	}
	be, err := sf.open(ctx)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer be.Close()
	path := *out
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		path = filepath.Join(*dir, fmt.Sprintf("engram-%s-%s.engram", be.Profile, time.Now().UTC().Format("20060102T150405Z")))
	}
	emb, closeVectors, err := exportEmbedder(sf, be, *withVectors)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer closeVectors()
	start := time.Now()
	m, err := writeArchive(ctx, path, stdout, func(w io.Writer) (archive.Manifest, error) {
		return archive.Export(ctx, be.Source, w, archive.ExportOptions{SchemaVersion: be.SchemaVersion, Profile: be.Profile, Embedder: emb})
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	printManifest(stderr, m, time.Since(start))
	fmt.Fprintln(stdout, path)
	return nil
}

func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addArchiveStoreFlags(fs, getenv, vectorFlags...)
	batch := fs.Int("batch", 1000, "rows per transaction")
	keys := fs.String("keys", "", "load the data keys of `engram keys export` first, for an encrypted archive restored into an empty store (docs/privacy.md)")
	if err := interleaved(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("restore: usage: engram restore FILE [--data-dir D | --postgres-url URL]")
	}
	file := fs.Arg(0)
	cp := file + ".checkpoint"
	be, err := sf.open(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer be.Close()
	// A checkpoint means an earlier restore of this file was interrupted:
	// the store holds its first part, and the import resumes after it.
	if _, err := os.Stat(cp); err != nil {
		if table, empty, err := storeEmpty(ctx, be.Source); err != nil {
			return fmt.Errorf("restore: %w", err)
		} else if !empty {
			return fmt.Errorf("restore: the target store is not empty (it has %s rows): restore goes into an empty store; use `engram import` to merge", table)
		}
	}
	if *keys != "" {
		if _, _, err := importKeys(ctx, be.DataKeys, *keys); err != nil {
			return fmt.Errorf("restore: --keys: %w", err)
		}
	}
	av, err := sf.vectors(be)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer av.Close()
	start := time.Now()
	rep, err := archive.ImportFile(ctx, be.Sink, file, archive.ImportOptions{BatchSize: *batch, Checkpoint: cp,
		Changed: be.Indexer.MemoriesChanged, Vectors: vectorTarget(av)})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return printImport(stdout, rep, time.Since(start), false)
}

var errNotEmpty = errors.New("not empty")

// storeEmpty reports whether every archived table is empty, and if not the
// first table with rows.
func storeEmpty(ctx context.Context, src ports.ArchiveSource) (string, bool, error) {
	var table string
	err := src.ArchiveSnapshot(ctx, func(sn ports.ArchiveSnapshot) error {
		for _, t := range ports.ArchiveTables {
			err := sn.Scan(ctx, t, ports.ArchiveScope{}, func(ports.ArchiveRow) error { return errNotEmpty })
			if errors.Is(err, errNotEmpty) {
				table = t.Name
				return nil
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return table, table == "" && err == nil, err
}
