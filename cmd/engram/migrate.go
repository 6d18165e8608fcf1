package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/cmd/internal/wiring"
)

func init() {
	register("migrate", command{
		summary: "apply or revert PostgreSQL schema migrations: migrate up|down|version|force N --postgres-url URL",
		run:     runMigrate,
	})
}

// runMigrate runs as the schema owner: the URL's role must own (or be able
// to create) the tables and create the engram_app role on first run. engramd
// itself should log in as a member of engram_app.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verify := fs.Bool("verify", false, "up: digest every table of every org (rows and SHA-256) before and after, and fail if they differ")
	pgURL := fs.String("postgres-url", getenv("ENGRAM_POSTGRES_URL"),
		"PostgreSQL URL of the schema owner (default $ENGRAM_POSTGRES_URL); search_path=<schema> selects a schema")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: engram migrate up|down|version|force N --postgres-url URL")
		fmt.Fprintln(stderr, "  up       apply every pending migration")
		fmt.Fprintln(stderr, "  down     revert the latest migration (one per call)")
		fmt.Fprintln(stderr, "  version  print the current version")
		fmt.Fprintln(stderr, "  force N  record version N and clear the dirty flag, running nothing")
		fs.PrintDefaults()
	}
	// Flags may come before or after the action.
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return errors.New("migrate: missing action (up, down or version)")
	}
	action, rest := rest[0], rest[1:]
	forceTo := -1
	if action == "force" {
		if len(rest) == 0 {
			return errors.New("migrate: force needs the version to record")
		}
		n, err := strconv.Atoi(rest[0])
		if err != nil || n < 0 {
			return fmt.Errorf("migrate: force: %q is not a version number", rest[0])
		}
		forceTo, rest = n, rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected arguments %q", fs.Args())
	}
	if *pgURL == "" {
		return errors.New("migrate: --postgres-url (or ENGRAM_POSTGRES_URL) is required")
	}
	switch action {
	case "up", "down":
		if *verify {
			if action != "up" {
				return errors.New("migrate: --verify goes with up")
			}
			return migrateUpVerified(ctx, *pgURL, stdout)
		}
		v, err := wiring.Migrate(ctx, *pgURL, wiring.Direction(action))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "migrated %s: schema version %d\n", action, v)
		return nil
	case "version":
		v, dirty, err := wiring.SchemaVersion(ctx, *pgURL)
		if err != nil {
			return err
		}
		if dirty {
			fmt.Fprintf(stdout, "schema version %d (dirty: a migration failed half-way; repair it by hand)\n", v)
			return nil
		}
		fmt.Fprintf(stdout, "schema version %d\n", v)
		return nil
	case "force":
		if err := wiring.ForceVersion(ctx, *pgURL, forceTo); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "schema version forced to %d\n", forceTo)
		return nil
	default:
		fs.Usage()
		return fmt.Errorf("migrate: unknown action %q (want up, down, version or force)", action)
	}
}

// migrateUpVerified is migrate up between two digests of the data (the
// seed's MigrationVerifier): a schema migration must not change a row.
func migrateUpVerified(ctx context.Context, url string, stdout io.Writer) error {
	have, dirty, err := wiring.SchemaVersion(ctx, url)
	if err != nil {
		return err
	}
	if dirty {
		return errors.New("migrate: the schema is dirty (a migration failed half-way); repair it before --verify")
	}
	if have < wiring.ArchiveColumnsVersion {
		return fmt.Errorf("migrate: --verify reads the data through the archive columns of schema %d; this schema is at %d: migrate up without --verify first", wiring.ArchiveColumnsVersion, have)
	}
	before, err := wiring.PostgresDigests(ctx, url)
	if err != nil {
		return fmt.Errorf("migrate: verify: read before: %w", err)
	}
	v, err := wiring.Migrate(ctx, url, wiring.Direction("up"))
	if err != nil {
		return err
	}
	after, err := wiring.PostgresDigests(ctx, url)
	if err != nil {
		return fmt.Errorf("migrate: verify: read after: %w", err)
	}
	bad := archive.Compare(before, after)
	for _, m := range bad {
		fmt.Fprintf(stdout, "MISMATCH %s org %q: before %d rows %.12s, after %d rows %.12s\n", m.Table, m.Org, m.Want.Rows, m.Want.SHA256, m.Got.Rows, m.Got.SHA256)
	}
	if len(bad) > 0 {
		return fmt.Errorf("migrate: schema migrated from %d to %d but %d table/org pairs changed: restore the backup taken before, or migrate down", have, v, len(bad))
	}
	var rows int64
	for _, byOrg := range after {
		for _, d := range byOrg {
			rows += d.Rows
		}
	}
	fmt.Fprintf(stdout, "migrated up: schema version %d -> %d; verified %d rows of every table and org unchanged\n", have, v, rows)
	return nil
}
