package wiring

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
	pgmigrations "github.com/engram-memory/engram/migrations/postgres"
)

func (s *System) openStore(ctx context.Context) error {
	cfg := s.Config
	switch {
	case cfg.PostgresURL != "":
		if err := s.migratePostgres(ctx); err != nil {
			return err
		}
		st, err := pgstore.Open(ctx, pgstore.Config{
			URL: cfg.PostgresURL, MaxOpenConns: cfg.PGMaxConns,
			Options: pgstore.Options{StatementTimeout: cfg.PGStmtTimeout},
		})
		if err != nil {
			return fmt.Errorf("ENGRAM_POSTGRES_URL: %w", err)
		}
		s.onClose(st.Close)
		s.raw, s.storeName = st, "postgres"
		s.Store = s.decorateStore(s.storeName, st)
		s.Checks = append(s.Checks, httpapi.Check{Name: "postgres", Required: true, Probe: st.Ping})
	default:
		st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: SQLitePath(cfg.DataDir)})
		if err != nil {
			return fmt.Errorf("ENGRAM_DATA_DIR: %w", err)
		}
		s.onClose(st.Close)
		s.raw, s.storeName = st, "sqlite"
		s.Store = s.decorateStore(s.storeName, st)
		s.Checks = append(s.Checks, httpapi.Check{Name: "sqlite", Required: true, Probe: func(ctx context.Context) error {
			_, err := st.Stats(ctx, probeTenant)
			return err
		}})
	}
	return nil
}

// probeTenant owns nothing; reading its stats exercises the read path.
var probeTenant = domain.Tenant{OrgID: "engram-readiness", UserID: "probe"}

// migratePostgres applies pending migrations, or with --no-migrate refuses
// to start on a schema older than this binary.
func (s *System) migratePostgres(ctx context.Context) error {
	cfg := s.Config
	want, err := LatestPostgresMigration()
	if err != nil {
		return err
	}
	if cfg.NoMigrate {
		have, dirty, err := pgstore.Version(ctx, cfg.PostgresURL)
		if err != nil {
			return fmt.Errorf("ENGRAM_POSTGRES_URL: read schema version: %w", err)
		}
		if dirty || have < want {
			return fmt.Errorf("the database schema is at version %d (dirty=%v) but this engramd needs %d, and --no-migrate is set: run `engram migrate up --postgres-url ...` as the schema owner first", have, dirty, want)
		}
		return nil
	}
	v, err := pgstore.Migrate(ctx, cfg.PostgresURL, pgstore.Up)
	if err != nil {
		return fmt.Errorf("ENGRAM_POSTGRES_URL: migrate: %w", err)
	}
	s.Logger.Info("postgres schema migrated", "version", v)
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
