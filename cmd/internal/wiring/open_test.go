package wiring

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/cmd/internal/config"
)

func testConfig(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if env["ENGRAM_DATA_DIR"] == "" {
		env["ENGRAM_DATA_DIR"] = t.TempDir()
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	require.NoError(t, err)
	return cfg
}

var quiet = slog.New(slog.DiscardHandler)

func TestOpenStoreSQLiteServesEveryPortAndCapability(t *testing.T) {
	ctx := context.Background()
	b, err := OpenStore(ctx, testConfig(t, nil), quiet)
	require.NoError(t, err)
	defer b.Close()
	require.Equal(t, "sqlite", b.Name)
	for name, v := range map[string]any{
		"Memories": b.Memories, "Apps": b.Apps, "Access": b.Access, "Feedback": b.Feedback,
		"QueryLog": b.QueryLog, "Experiments": b.Experiments, "Scanner": b.Scanner, "Text": b.Text, "Drift": b.Drift,
	} {
		require.NotNil(t, v, name)
	}
	require.NoError(t, b.Check.Probe(ctx))
}

func TestOpenSearchDefaultsToInProcessVectorsAndTheStoresText(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, nil)
	b, err := OpenStore(ctx, cfg, quiet)
	require.NoError(t, err)
	defer b.Close()
	s, err := OpenSearch(ctx, cfg, b)
	require.NoError(t, err)
	defer s.Close()
	require.True(t, s.LoadVectors())
	require.Equal(t, "sqlite_text", s.TextName, "the text index has its own breaker, not the store's")
	require.Same(t, b.Text, s.Text)
	require.Empty(t, s.EmbedderName, "the local embedder is not decorated")
}

func TestOpenCachesInProcessByDefault(t *testing.T) {
	c, err := OpenCaches(context.Background(), testConfig(t, nil), quiet)
	require.NoError(t, err)
	require.Equal(t, "inproc", c.Name)
	require.Nil(t, c.Admin)
	require.NoError(t, c.Close())
}
