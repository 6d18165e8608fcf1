package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/keywrap"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// TestKeysRotateRewrapsWithoutReencrypting rotates the key file's KEK:
// every data key is rewrapped under the new KEK, the sealed memories are
// untouched and still read, and --finish drops the old KEK from the file.
func TestKeysRotateRewrapsWithoutReencrypting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() wiring.Backend {
		cfg, err := config.Load([]string{"--data-dir", dir, "--encryption", "on"}, noEnv)
		require.NoError(t, err)
		b, err := wiring.OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		return b
	}
	b := open()
	var ids []domain.MemoryID
	for _, u := range []domain.UserID{"alice", "bob"} {
		tn := domain.Tenant{OrgID: "acme", UserID: u}
		m, err := domain.NewMemory(tn, "app", "rotation survives for "+string(u), nil, nil, time.Now())
		require.NoError(t, err)
		stored, _, err := b.Memories.Create(ctx, tn, m)
		require.NoError(t, err)
		ids = append(ids, stored.ID)
	}
	require.NoError(t, b.Close())
	before, err := keywrap.ReadFile(filepath.Join(dir, keywrap.FileName))
	require.NoError(t, err)
	require.Len(t, before, 1)

	var out bytes.Buffer
	require.NoError(t, runKeys(ctx, []string{"rotate", "--data-dir", dir}, noEnv, &out, &out), out.String())
	require.Contains(t, out.String(), "rewrapped 2 of 2 data keys")
	mid, err := keywrap.ReadFile(filepath.Join(dir, keywrap.FileName))
	require.NoError(t, err)
	require.Len(t, mid, 2, "the previous key stays until --finish")
	require.Equal(t, before[0], mid[1])

	out.Reset()
	require.NoError(t, runKeys(ctx, []string{"rotate", "--finish", "--data-dir", dir}, noEnv, &out, &out), out.String())
	require.Contains(t, out.String(), "rewrapped 0 of 2")
	after, err := keywrap.ReadFile(filepath.Join(dir, keywrap.FileName))
	require.NoError(t, err)
	require.Equal(t, [][]byte{mid[0]}, after, "only the new key is left")

	out.Reset()
	require.NoError(t, runKeys(ctx, []string{"status", "--data-dir", dir}, noEnv, &out, &out), out.String())
	require.Contains(t, out.String(), "2 data keys, 0 wrapped by another key")
	b = open()
	defer b.Close()
	for i, u := range []domain.UserID{"alice", "bob"} {
		m, err := b.Memories.Get(ctx, domain.Tenant{OrgID: "acme", UserID: u}, ids[i])
		require.NoError(t, err, "sealed values open after the rotation without being rewritten")
		require.Equal(t, "rotation survives for "+string(u), m.Text)
	}
}
