package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
)

// archiveStoreFlags are the flags every archive command takes to name a
// store: engramd's --data-dir and --postgres-url, defaulting to their
// ENGRAM_* variables.
// A command that handles an archive's vectors adds vectorFlags (the
// embedder's and Qdrant's settings) as extra.
type archiveStoreFlags struct {
	cc  *config.Command
	cfg config.Config
}

var vectorFlags = []string{"embedder", "embed-url", "embed-model", "qdrant-url"}

func addArchiveStoreFlags(fs *flag.FlagSet, getenv func(string) string, extra ...string) *archiveStoreFlags {
	return &archiveStoreFlags{cc: config.ForCommand(fs, getenv, append([]string{"data-dir", "postgres-url"}, extra...)...)}
}

// open opens the store after the flags are parsed. Unlike other commands,
// archive commands migrate PostgreSQL (unless ENGRAM_NO_MIGRATE): a restore
// lands on a fresh database.
func (s *archiveStoreFlags) open(ctx context.Context) (wiring.ArchiveBackend, error) {
	cfg, err := s.cc.Load()
	if err != nil {
		return wiring.ArchiveBackend{}, err
	}
	s.cfg = cfg
	return wiring.OpenArchiveStore(ctx, cfg)
}

// vectors opens the embedder and, with Qdrant, the vector index that an
// archive's vectors are written from or loaded into (after open).
func (s *archiveStoreFlags) vectors(be wiring.ArchiveBackend) (wiring.ArchiveVectors, error) {
	return wiring.OpenArchiveVectors(s.cfg, be)
}

// vectorTarget is what ImportOptions.Vectors takes from av: nil (an
// untyped nil) without a vector index to load into.
func vectorTarget(av wiring.ArchiveVectors) archive.VectorTarget {
	if av.Target == nil {
		return nil
	}
	return av.Target
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

func splitLines(s string) []string { return strings.Split(s, "\n") }
