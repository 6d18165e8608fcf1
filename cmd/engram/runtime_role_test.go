package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

// The commands that use the store run as the documented runtime role: a
// login role that is only a member of engram_app (docs/postgres.md), on a
// schema the owner migrated. Only `migrate up|down|force` need the owner.
func TestCommandsRunAsTheRuntimeRole(t *testing.T) {
	ctx := context.Background()
	owner := migrateSchema(t)
	_, err := pgstore.Migrate(ctx, owner, pgstore.Up)
	require.NoError(t, err)
	st, err := pgstore.Open(ctx, pgstore.Config{URL: owner})
	require.NoError(t, err)
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	m, err := domain.NewMemory(tn, "app", "the runtime role reindexes this", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = st.Create(ctx, tn, m)
	require.NoError(t, err)
	require.NoError(t, st.Close())

	db, err := sql.Open("postgres", owner)
	require.NoError(t, err)
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	role := "engram_cli_rt_" + hex.EncodeToString(b[:])
	_, err = db.Exec(`CREATE ROLE ` + role + ` LOGIN PASSWORD 'pw' IN ROLE engram_app`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.Exec(`DROP ROLE ` + role) })
	u, err := url.Parse(owner)
	require.NoError(t, err)
	u.User = url.UserPassword(role, "pw")
	rt := u.String()

	engram := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append(args, "--postgres-url", rt), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := engram("migrate", "version")
	require.NoError(t, err, out)
	require.Equal(t, fmt.Sprintf("schema version %d\n", latestPostgresMigration(t)), out)
	out, err = engram("reindex", "--vectors=false")
	require.NoError(t, err, out)
	require.Contains(t, out, "reindexed 1 memories")
	out, err = engram("purge-feedback")
	require.NoError(t, err, out)
	out, err = engram("migrate", "down")
	require.Error(t, err, "the runtime role may not migrate")
	require.ErrorIs(t, err, domain.ErrForbidden, out)
}
