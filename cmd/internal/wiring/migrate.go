package wiring

import (
	"context"
	"errors"
	"fmt"
	"github.com/engram-memory/engram/adapters/archive"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
	pgmigrations "github.com/engram-memory/engram/migrations/postgres"
)

// Direction is "up" (apply every pending migration) or "down" (revert one).
type Direction = pgstore.Direction

// Migrate applies (up) or reverts one (down) PostgreSQL migration on the
// database at url, as its schema owner, and returns the version reached.
func Migrate(ctx context.Context, url string, d Direction) (uint, error) {
	return pgstore.Migrate(ctx, url, d)
}

// SchemaVersion reads the PostgreSQL schema version and its dirty flag.
func SchemaVersion(ctx context.Context, url string) (uint, bool, error) {
	return pgstore.Version(ctx, url)
}

// ForceVersion records version v and clears the dirty flag, running nothing.
func ForceVersion(ctx context.Context, url string, v int) error { return pgstore.Force(ctx, url, v) }

// ensureSchema applies pending migrations, or with cfg.NoMigrate refuses a
// schema older than this binary. The version is read first, with a SELECT
// the runtime role may run (migration 0021): a schema that is current needs
// no migration, so engramd starts as a login role that is only a member of
// engram_app, with or without --no-migrate. Only a schema that is behind
// needs the owner.
func ensureSchema(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	want, err := LatestPostgresMigration()
	if err != nil {
		return err
	}
	have, dirty, err := pgstore.Version(ctx, cfg.PostgresURL)
	switch {
	case err != nil:
		return fmt.Errorf("ENGRAM_POSTGRES_URL: read schema version: %w", err)
	case dirty:
		return fmt.Errorf("the database schema is dirty at version %d (a migration failed half-way): repair it by hand, then `engram migrate force N` and `engram migrate up --postgres-url ...` as the schema owner", have)
	case have >= want:
		// Current, or newer (a later binary migrated during a rolling deploy).
		log.Info("postgres schema current", "version", have, "needs", want)
		return nil
	case cfg.NoMigrate:
		return fmt.Errorf("the database schema is at version %d but this binary needs %d, and migrations are off (--no-migrate, or an engram subcommand): run `engram migrate up --postgres-url ...` as the schema owner first", have, want)
	}
	v, err := pgstore.Migrate(ctx, cfg.PostgresURL, pgstore.Up)
	if errors.Is(err, domain.ErrForbidden) {
		return fmt.Errorf("ENGRAM_POSTGRES_URL: the schema is at version %d, this binary needs %d, and the login role may not migrate: run `engram migrate up --postgres-url ...` as the schema owner (see docs/postgres.md), then start again: %w", have, want, err)
	}
	if err != nil {
		return fmt.Errorf("ENGRAM_POSTGRES_URL: migrate from version %d to %d: %w (a login role that is only a member of engram_app may not migrate: run `engram migrate up --postgres-url ...` as the schema owner first)", have, want, err)
	}
	log.Info("postgres schema migrated", "from", have, "version", v)
	return nil
}

// LatestPostgresMigration is the highest migration version embedded.
func LatestPostgresMigration() (uint, error) {
	entries, err := fs.ReadDir(pgmigrations.FS, ".")
	if err != nil {
		return 0, err
	}
	var latest uint
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".up.sql") {
			continue
		}
		n, err := strconv.ParseUint(num, 10, 32)
		if err == nil && uint(n) > latest {
			latest = uint(n)
		}
	}
	return latest, nil
}

// ArchiveColumnsVersion is the first schema version with the archive's
// columns (0071): digests can be read from it on.
const ArchiveColumnsVersion = 71

// PostgresDigests reads every archived table of the database at url from
// one snapshot and digests it per org (archive.Digests), whatever the
// schema version, for `engram migrate up --verify`. The schema must be at
// ArchiveColumnsVersion or later.
func PostgresDigests(ctx context.Context, url string) (map[string]map[string]archive.Digest, error) {
	st, err := pgstore.Open(ctx, pgstore.Config{URL: url, MaxOpenConns: 2})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return archive.Digests(ctx, st)
}
