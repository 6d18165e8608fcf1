package keywrap_test

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/keywrap"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestFileKeyIsCreatedPrivateAndStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", keywrap.FileName)
	var (
		wg    sync.WaitGroup
		rings [4]*keywrap.Ring
		errs  [4]error
	)
	for i := range rings {
		wg.Add(1)
		go func() { defer wg.Done(); rings[i], errs[i] = keywrap.OpenFile(path) }()
	}
	wg.Wait()
	for i := range rings {
		require.NoError(t, errs[i])
		require.Equal(t, rings[0].KeyID(), rings[i].KeyID(), "processes starting at once agree on one key")
	}
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	ctx := context.Background()
	aad := ports.WrapAAD(domain.Tenant{OrgID: "o", UserID: "u"})
	w, err := rings[0].Wrap(ctx, make([]byte, 32), aad)
	require.NoError(t, err)
	again, err := keywrap.OpenFile(path)
	require.NoError(t, err)
	dek, err := again.Unwrap(ctx, rings[0].KeyID(), w, aad)
	require.NoError(t, err)
	require.Equal(t, make([]byte, 32), dek)

	_, err = again.Unwrap(ctx, rings[0].KeyID(), w, ports.WrapAAD(domain.Tenant{OrgID: "o", UserID: "other"}))
	require.ErrorIs(t, err, ports.ErrKeyUnwrap, "a wrapped key moved to another user does not unwrap")
	w[len(w)-1] ^= 1
	_, err = again.Unwrap(ctx, rings[0].KeyID(), w, aad)
	require.ErrorIs(t, err, ports.ErrKeyUnwrap)
	_, err = again.Unwrap(ctx, "local-0000000000000000", w, aad)
	require.ErrorIs(t, err, ports.ErrKeyUnwrap)

	require.NoError(t, os.Chmod(path, 0o644))
	_, err = keywrap.OpenFile(path)
	require.NoError(t, err)
	info, err = os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "a key file readable by others is made private again")
}

func TestEnvRingUnwrapsWithPreviousKeys(t *testing.T) {
	ctx := context.Background()
	k1, k2 := strings.Repeat("11", 32), strings.Repeat("22", 32)
	old, err := keywrap.FromEnv(k1, "")
	require.NoError(t, err)
	aad := []byte("aad")
	w, err := old.Wrap(ctx, []byte("0123456789abcdef0123456789abcdef"), aad)
	require.NoError(t, err)

	rotated, err := keywrap.FromEnv(k2, k1)
	require.NoError(t, err)
	raw, _ := hex.DecodeString(k2)
	require.Equal(t, keywrap.KeyID(raw), rotated.KeyID(), "ENGRAM_KEK wraps")
	dek, err := rotated.Unwrap(ctx, old.KeyID(), w, aad)
	require.NoError(t, err, "ENGRAM_KEK_PREVIOUS unwraps until the rotation is done")
	require.Equal(t, "0123456789abcdef0123456789abcdef", string(dek))

	only2, err := keywrap.FromEnv(k2, "")
	require.NoError(t, err)
	_, err = only2.Unwrap(ctx, old.KeyID(), w, aad)
	require.True(t, errors.Is(err, ports.ErrKeyUnwrap))

	for _, bad := range []string{"", "abc", k1 + "," + k2} {
		_, err := keywrap.FromEnv(bad, "")
		require.Error(t, err, "ENGRAM_KEK=%q", bad)
	}
}

func TestFileRingReloadsAfterAnotherProcessRotates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), keywrap.FileName)
	running, err := keywrap.OpenFile(path)
	require.NoError(t, err)
	old, err := keywrap.ReadFile(path)
	require.NoError(t, err)
	fresh, err := keywrap.NewKey()
	require.NoError(t, err)
	require.NoError(t, keywrap.WriteFile(path, [][]byte{fresh}))
	rotator, err := keywrap.OpenFile(path)
	require.NoError(t, err)
	require.NotEqual(t, running.KeyID(), rotator.KeyID())
	w, err := rotator.Wrap(ctx, fresh, []byte("x"))
	require.NoError(t, err)
	got, err := running.Unwrap(ctx, rotator.KeyID(), w, []byte("x"))
	require.NoError(t, err, "a running engramd reads the rotated key file on an unknown key id")
	require.Equal(t, fresh, got)
	require.Equal(t, keywrap.KeyID(fresh), running.KeyID())
	_ = old
}

func TestFileRingWrapsWithTheRotatedKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), keywrap.FileName)
	running, err := keywrap.OpenFile(path)
	require.NoError(t, err)
	fresh, err := keywrap.NewKey()
	require.NoError(t, err)
	require.NoError(t, keywrap.WriteFile(path, [][]byte{fresh}))
	w, err := running.Wrap(ctx, make([]byte, 32), []byte("x"))
	require.NoError(t, err)
	require.Equal(t, keywrap.KeyID(fresh), running.KeyID(), "a running engramd wraps new data keys with the key a rotation put first")
	only, err := keywrap.FromEnv(hex.EncodeToString(fresh), "")
	require.NoError(t, err)
	_, err = only.Unwrap(ctx, keywrap.KeyID(fresh), w, []byte("x"))
	require.NoError(t, err)
}
