package wiring

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
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
	require.Implements(t, (*ports.PageDrift)(nil), b.Drift, "start-up reads the store once (app.Indexer.Load)")
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
	c, err := OpenCaches(context.Background(), testConfig(t, nil), quiet, nil)
	require.NoError(t, err)
	require.Equal(t, "inproc", c.Name)
	require.Nil(t, c.Admin)
	require.NoError(t, c.Close())
}

// With a replay Valkey of its own, the in-process caches open no replay
// cache of their own (it would sit unused with its sweeper running).
func TestOwnReplayValkeyOpensNoInProcessReplayCache(t *testing.T) {
	cfg := testConfig(t, map[string]string{"ENGRAM_REPLAY_VALKEY_URL": "redis://127.0.0.1:1"})
	c, err := openCaches(context.Background(), cfg, quiet, nil)
	require.NoError(t, err)
	require.Nil(t, c.Replay, "an in-process replay cache was opened beside ENGRAM_REPLAY_VALKEY_URL")
	require.NoError(t, c.Close())
	c, err = openCaches(context.Background(), testConfig(t, nil), quiet, nil)
	require.NoError(t, err)
	require.NotNil(t, c.Replay)
	require.NoError(t, c.Close())
}

// ENGRAM_REPLAY_VALKEY_URL puts DPoP replay keys on a Valkey of their own
// (here beside in-process sessions): the replay cache is that server's,
// seen by a second process, with its own /readyz entries and its own
// breaker name.
func TestReplayKeysOnTheirOwnValkey(t *testing.T) {
	ctx := context.Background()
	addr := contracttest.BackendAddr(t, contracttest.Valkey)
	if !strings.Contains(addr, "://") {
		addr = "redis://" + addr
	}
	env := map[string]string{"ENGRAM_REPLAY_VALKEY_URL": addr, "ENGRAM_VALKEY_PREFIX": "engram-replay-" + rand.Text()[:8]}
	cfg := testConfig(t, env)
	a, err := OpenCaches(ctx, cfg, quiet, nil)
	require.NoError(t, err)
	defer a.Close()
	require.Equal(t, "inproc", a.Name, "sessions and the rest stay in process")
	require.Equal(t, "valkey_replay", a.ReplayName)
	var names []string
	for _, c := range a.Checks {
		names = append(names, c.Name)
		require.NoError(t, c.Probe(ctx), c.Name)
	}
	require.Contains(t, names, "valkey_replay")

	until := time.Now().Add(time.Minute)
	fresh, err := a.Replay.Remember(ctx, "dpop:jkt:jti-1", until)
	require.NoError(t, err)
	require.True(t, fresh)
	b, err := OpenCaches(ctx, cfg, quiet, nil)
	require.NoError(t, err)
	defer b.Close()
	fresh, err = b.Replay.Remember(ctx, "dpop:jkt:jti-1", until)
	require.NoError(t, err)
	require.False(t, fresh, "another process sees the key: it is in Valkey, not in process")

	d := newDecorator(cfg, quiet)
	decorated := d.caches(a)
	require.Contains(t, d.policies, "valkey_replay", "the replay server has its own breaker")
	_, err = decorated.Replay.Remember(ctx, "dpop:jkt:jti-2", until)
	require.NoError(t, err)

	bad := map[string]string{"ENGRAM_REPLAY_VALKEY_URL": "http://x"}
	_, err = config.Load(nil, func(k string) string { return bad[k] })
	require.ErrorContains(t, err, "ENGRAM_REPLAY_VALKEY_URL")
}
