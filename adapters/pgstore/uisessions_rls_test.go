package pgstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

// TestRLSUISessions queries ui_sessions as the login role with raw SQL: a
// dashboard session is found by its cookie's hash before any org is known,
// so without an org a row shows only to the transaction naming its hash,
// and the hash alone never lets a write through.
func TestRLSUISessions(t *testing.T) {
	t.Parallel()
	_, appURL := testSchema(t)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL})
	require.NoError(t, err)
	defer s.Close()
	hashes := map[domain.OrgID]string{}
	now := time.Now().UTC()
	for _, org := range []domain.OrgID{"org-a", "org-b"} {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		sum := sha256.Sum256(b)
		hashes[org] = hex.EncodeToString(sum[:])
		require.NoError(t, s.PutUISession(ctx, domain.UISession{IDHash: hashes[org], OrgID: org, UserID: "u1", Access: "a", Refresh: "r",
			AccessExpiresAt: now.Add(time.Minute), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, 10))
	}
	raw, err := sqlx.Open("postgres", appURL)
	require.NoError(t, err)
	defer raw.Close()
	inTx := func(settings map[string]string, fn func(tx *sqlx.Tx)) {
		tx, err := raw.BeginTxx(ctx, nil)
		require.NoError(t, err)
		defer tx.Rollback()
		for k, v := range settings {
			_, err = tx.ExecContext(ctx, `SELECT set_config($1, $2, true)`, k, v)
			require.NoError(t, err)
		}
		fn(tx)
	}
	orgs := func(tx *sqlx.Tx) []string {
		var out []string
		require.NoError(t, tx.SelectContext(ctx, &out, `SELECT org_id FROM ui_sessions ORDER BY 1`))
		return out
	}
	affected := func(tx *sqlx.Tx, q string) int64 {
		res, err := tx.ExecContext(ctx, q)
		require.NoError(t, err)
		n, _ := res.RowsAffected()
		return n
	}
	inTx(nil, func(tx *sqlx.Tx) { require.Empty(t, orgs(tx)) })
	inTx(map[string]string{"engram.token_hash": hashes["org-a"]}, func(tx *sqlx.Tx) {
		require.Equal(t, []string{"org-a"}, orgs(tx), "the hash shows its own row and nothing else")
		require.Zero(t, affected(tx, `UPDATE ui_sessions SET access_token = 'stolen'`), "knowing a hash grants no write")
		require.Zero(t, affected(tx, `DELETE FROM ui_sessions`), "knowing a hash grants no delete")
	})
	inTx(map[string]string{"engram.org_id": "org-b"}, func(tx *sqlx.Tx) {
		require.Equal(t, []string{"org-b"}, orgs(tx))
		require.Zero(t, affected(tx, `DELETE FROM ui_sessions WHERE org_id = 'org-a'`), "an org deletes none of another org's sessions")
	})
	inTx(map[string]string{"engram.token_hash": "not-a-hash"}, func(tx *sqlx.Tx) { require.Empty(t, orgs(tx)) })
}
