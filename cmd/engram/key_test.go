package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// TestKeyCommand creates, lists and revokes keys on the embedded store and
// checks what it stored: the hash, never the key.
func TestKeyCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	call := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		args = append([]string{args[0], args[1], "--data-dir", dir}, args[2:]...)
		err := run(ctx, args, &out, &errb)
		return strings.TrimSpace(out.String()), err
	}
	key, err := call("key", "create", "--org", "acme", "--user", "alice", "--name", "laptop", "--app", "cursor")
	require.NoError(t, err)
	require.True(t, domain.LooksLikeKey(key), key)
	project, err := call("key", "create", "--org", "acme", "--project", "--scopes", "memories:read")
	require.NoError(t, err)
	_, err = call("key", "create", "--org", "acme")
	require.Error(t, err, "a user key needs --user")

	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: wiring.SQLitePath(dir)})
	require.NoError(t, err)
	rec, err := st.LookupKey(ctx, domain.HashKey(key))
	require.NoError(t, err)
	require.Equal(t, domain.UserID("alice"), rec.UserID)
	require.Equal(t, domain.AppID("cursor"), rec.AppID)
	prec, err := st.LookupKey(ctx, domain.HashKey(project))
	require.NoError(t, err)
	require.Equal(t, domain.KeyProject, prec.Kind)
	require.NoError(t, st.Close())

	list, err := call("key", "list", "--org", "acme")
	require.NoError(t, err)
	require.Contains(t, list, rec.ID)
	require.Contains(t, list, prec.ID)
	require.NotContains(t, list, key[domain.KeyDisplayLen:], "a list never shows a key")
	out, err := call("key", "revoke", "--org", "acme", rec.ID)
	require.NoError(t, err)
	require.Contains(t, out, "revoked")
	list, err = call("key", "list", "--org", "acme", "--user", "alice")
	require.NoError(t, err)
	require.Contains(t, list, "revoked")
	_, err = call("key", "revoke", "--org", "globex", prec.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "never across orgs")
}
