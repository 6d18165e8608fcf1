package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

// TestRLSKeys queries api_keys as the login role with raw SQL: without an
// org a row shows only to the transaction naming its hash, and the hash
// alone never lets a write through.
func TestRLSKeys(t *testing.T) {
	t.Parallel()
	_, appURL := testSchema(t)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL})
	require.NoError(t, err)
	defer s.Close()
	hashes := map[domain.OrgID]string{}
	for _, org := range []domain.OrgID{"org-a", "org-b"} {
		rec, secret, err := domain.NewAPIKey(domain.APIKey{OrgID: org, Kind: domain.KeyProject, CreatedBy: "admin",
			Scopes: []domain.Scope{domain.ScopeMemoriesRead}}, time.Now())
		require.NoError(t, err)
		require.NoError(t, s.CreateKey(ctx, rec))
		hashes[org] = domain.HashKey(secret)
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
		require.NoError(t, tx.SelectContext(ctx, &out, `SELECT org_id FROM api_keys ORDER BY 1`))
		return out
	}
	inTx(nil, func(tx *sqlx.Tx) { require.Empty(t, orgs(tx)) })
	inTx(map[string]string{"engram.key_hash": hashes["org-a"]}, func(tx *sqlx.Tx) {
		require.Equal(t, []string{"org-a"}, orgs(tx), "the hash shows its own row and nothing else")
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = now()`)
		require.NoError(t, err)
		n, _ := res.RowsAffected()
		require.Zero(t, n, "knowing a hash grants no write")
		res, err = tx.ExecContext(ctx, `DELETE FROM api_keys`)
		require.NoError(t, err, "erasure deletes keys: the runtime role may (migration 0206)")
		n, _ = res.RowsAffected()
		require.Zero(t, n, "knowing a hash grants no delete")
	})
	inTx(map[string]string{"engram.org_id": "org-b"}, func(tx *sqlx.Tx) {
		require.Equal(t, []string{"org-b"}, orgs(tx))
		res, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE org_id = 'org-a'`)
		require.NoError(t, err)
		n, _ := res.RowsAffected()
		require.Zero(t, n, "an org deletes none of another org's keys")
	})
	inTx(map[string]string{"engram.key_hash": "not-a-hash"}, func(tx *sqlx.Tx) { require.Empty(t, orgs(tx)) })
}
