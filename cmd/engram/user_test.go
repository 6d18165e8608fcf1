package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

func TestUserCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	call := func(stdin string, args ...string) (string, string, error) {
		userStdin = strings.NewReader(stdin)
		t.Cleanup(func() { userStdin = os.Stdin })
		var out, errb bytes.Buffer
		args = append([]string{args[0], args[1], "--data-dir", dir}, args[2:]...)
		err := run(ctx, args, &out, &errb)
		return strings.TrimSpace(out.String()), errb.String(), err
	}
	_, note, err := call("a long enough password\n", "user", "add", "bob", "--org", "acme")
	require.NoError(t, err)
	require.Contains(t, note, `password set for user "bob" of org "acme"`)
	_, _, err = call("another long password\n", "user", "add", "bob", "--org", "acme")
	require.ErrorIs(t, err, domain.ErrAlreadyExists)
	_, _, err = call("short\n", "user", "passwd", "bob", "--org", "acme")
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.ErrorContains(t, err, "at least 10 characters")
	_, _, err = call("", "user", "add")
	require.ErrorContains(t, err, "give the new user's name")

	code, _, err := call("", "user", "code")
	require.NoError(t, err)
	require.Regexp(t, `^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`, code)

	cfg, err := config.Load([]string{"--data-dir", dir}, func(string) string { return "" })
	require.NoError(t, err)
	users, closeUsers, err := wiring.OpenUsers(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer closeUsers()
	u, err := users.Store.GetUser(ctx, "acme", "bob")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(u.PasswordHash, "pbkdf2-sha256$600000$"), u.PasswordHash)
	local, err := users.Store.GetUser(ctx, "local", wiring.LocalUser)
	require.NoError(t, err)
	require.NotEmpty(t, local.CodeHash)
}
