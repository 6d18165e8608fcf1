package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
)

// archiveStoreFlags are the flags every archive command takes to name a store:
// the engramd settings of the same names, defaulting to their ENGRAM_*
// variables through config.Load.
type archiveStoreFlags struct {
	dataDir, pgURL string
	getenv         func(string) string
}

func addArchiveStoreFlags(fs *flag.FlagSet) *archiveStoreFlags {
	s := &archiveStoreFlags{getenv: os.Getenv}
	fs.StringVar(&s.dataDir, "data-dir", "", "data directory of the embedded store (ENGRAM_DATA_DIR)")
	fs.StringVar(&s.pgURL, "postgres-url", "", "PostgreSQL URL instead of the embedded store (ENGRAM_POSTGRES_URL)")
	return s
}

// config is engramd's configuration with the store flags applied.
func (s *archiveStoreFlags) config() (config.Config, error) {
	var args []string
	if s.dataDir != "" {
		args = append(args, "--data-dir", s.dataDir)
	}
	if s.pgURL != "" {
		args = append(args, "--postgres-url", s.pgURL)
	}
	return config.Load(args, s.getenv)
}

func (s *archiveStoreFlags) open(ctx context.Context) (wiring.ArchiveBackend, error) {
	cfg, err := s.config()
	if err != nil {
		return wiring.ArchiveBackend{}, err
	}
	return wiring.OpenArchiveStore(ctx, cfg)
}

// parseSince accepts an RFC 3339 time or a duration back from now (72h).
func parseSince(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time or a duration such as 24h", v)
	}
	return t, nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
