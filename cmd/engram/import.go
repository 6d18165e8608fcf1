package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("import", command{
		summary: "import an Engram archive, an OpenMemory backup or a mem0 export",
		run:     runImport,
	})
}

func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addArchiveStoreFlags(fs, getenv, vectorFlags...)
	mode := fs.String("mode", "skip", "rows whose id exists: skip (keep the stored row) or overwrite")
	dry := fs.Bool("dry-run", false, "report what would change and change nothing")
	batch := fs.Int("batch", 1000, "rows per transaction")
	checkpoint := fs.String("checkpoint", "", "progress file for resuming (default FILE.checkpoint)")
	org := fs.String("org", "", "land every row in this org (with --user): rewrites the file's tenants; required for OpenMemory and mem0 files")
	user := fs.String("user", "", "land every row with this user (with --org)")
	keys := fs.String("keys", "", "load the data keys of `engram keys export` first (an encrypted archive from another store)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := interleaved(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("import: usage: engram import FILE [--mode skip|overwrite] [--dry-run] [--org ORG --user USER]")
	}
	file := fs.Arg(0)
	o := archive.ImportOptions{BatchSize: *batch, Checkpoint: *checkpoint, LoadOptions: ports.LoadOptions{DryRun: *dry}}
	switch *mode {
	case "skip":
	case "overwrite":
		o.Overwrite = true
	default:
		return fmt.Errorf("import: --mode must be skip or overwrite, got %q", *mode)
	}
	if o.Checkpoint == "" {
		o.Checkpoint = file + ".checkpoint"
	}
	if (*org == "") != (*user == "") {
		return errors.New("import: --org and --user go together")
	}
	if *org != "" {
		tn := domain.Tenant{OrgID: domain.OrgID(*org), UserID: domain.UserID(*user)}
		if err := tn.Validate(); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		o.Tenant = &tn
	}
	be, err := sf.open(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer be.Close()
	if *keys != "" {
		if _, _, err := importKeys(ctx, be.DataKeys, *keys); err != nil {
			return fmt.Errorf("import: --keys: %w", err)
		}
	}
	o.Changed = be.Indexer.MemoriesChanged
	av, err := sf.vectors(be)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer av.Close()
	o.Vectors = vectorTarget(av)
	start := time.Now()
	last := start
	o.Progress = func(table string, line int64) {
		if time.Since(last) > 2*time.Second {
			last = time.Now()
			fmt.Fprintf(stderr, "import: %s line %d...\n", table, line)
		}
	}
	rep, err := archive.ImportFile(ctx, be.Sink, file, o)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return printImport(stdout, rep, time.Since(start), *asJSON)
}

// interleaved parses flags that may come before or after the positional
// argument (engram import FILE --dry-run).
func interleaved(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

func printImport(w io.Writer, rep archive.Report, took time.Duration, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	verb := "imported"
	if rep.DryRun {
		verb = "dry run: would import"
	}
	var rows int64
	for _, t := range rep.Tables {
		fmt.Fprintf(w, "  %-24s %10d rows: %d inserted, %d updated, %d skipped\n", t.Table, t.Rows, t.Inserted, t.Updated, t.Skipped)
		rows += t.Rows
	}
	resumed := ""
	if rep.Resumed {
		resumed = " (resumed from the checkpoint)"
	}
	fmt.Fprintf(w, "%s %d rows of a %s file in %s%s\n", verb, rows, rep.Format, took.Round(time.Millisecond), resumed)
	if v := rep.Vectors; v != nil {
		if v.Outcome == "loaded" {
			fmt.Fprintf(w, "vectors: loaded %d archived vectors (%s, %d dimensions) into the vector index; %d memories embedded (no archived vector for their stored text)\n",
				v.Loaded, v.Model, v.Dimension, v.Embedded)
		} else {
			fmt.Fprintf(w, "vectors: the archive's %d vectors (%s, %d dimensions) not loaded: %s; the memories are embedded as for an archive without vectors (docs/archive.md, \"Vectors\")\n",
				v.Rows, v.Model, v.Dimension, v.Reason)
		}
	}
	return nil
}
