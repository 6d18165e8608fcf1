package pgstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/keywrap"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

// newEncryptedStore returns a store with encryption on over a fresh schema,
// and the owner's URL (which row-level security does not restrict) for
// reading what rests in the tables.
func newEncryptedStore(t testing.TB, opts pgstore.Options) (*pgstore.Store, string) {
	t.Helper()
	ownerURL, appURL := testSchema(t)
	kek, err := keywrap.OpenFile(filepath.Join(t.TempDir(), keywrap.FileName))
	require.NoError(t, err)
	opts.Keys, opts.Encrypt = kek, true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 8, Options: opts})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, ownerURL
}

// dumpTables returns every row of the memory tables as text, as a plain
// dump would hold them.
func dumpTables(t *testing.T, ownerURL string) []byte {
	db, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	defer db.Close()
	var out []byte
	for _, table := range []string{"memories", "memory_changes", "query_logs", "data_keys"} {
		var s string
		require.NoError(t, db.Get(&s, `SELECT coalesce(string_agg(r::text, E'\n'), '') FROM `+table+` r`))
		out = append(out, s...)
	}
	return out
}

func TestEncryptionAtRestContract(t *testing.T) {
	for name, batch := range map[string]pgstore.BatchMode{"Insert": pgstore.BatchInsert, "Copy": pgstore.BatchCopy} {
		t.Run(name, func(t *testing.T) {
			contracttest.RunEncryptionAtRest(t, func(t *testing.T) contracttest.EncryptionBackend {
				s, owner := newEncryptedStore(t, pgstore.Options{Batch: batch})
				return contracttest.EncryptionBackend{Store: s, AtRest: func(t *testing.T) []byte { return dumpTables(t, owner) }}
			})
		})
	}
}

func TestMemoryStoreContractEncrypted(t *testing.T) {
	contracttest.RunMemoryStore(t, func(t *testing.T) ports.MemoryStore {
		s, _ := newEncryptedStore(t, pgstore.Options{})
		return s
	})
}

func TestPlaintextSealerContract(t *testing.T) {
	contracttest.RunPlaintextSealer(t, func(t *testing.T) contracttest.SealBackend {
		owner, appURL := testSchema(t)
		kek, err := keywrap.OpenFile(filepath.Join(t.TempDir(), keywrap.FileName))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sealed, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 4, Options: pgstore.Options{Keys: kek, Encrypt: true}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = sealed.Close() })
		plain, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 4})
		require.NoError(t, err)
		t.Cleanup(func() { _ = plain.Close() })
		return contracttest.SealBackend{Plain: plain, Sealed: sealed, AtRest: func(t *testing.T) []byte {
			db, err := sqlx.Open("postgres", owner)
			require.NoError(t, err)
			defer db.Close()
			var s string
			require.NoError(t, db.Get(&s, `SELECT coalesce(string_agg(r::text, E'\n' ORDER BY r::text), '') FROM (
				SELECT m::text AS r FROM memories m UNION ALL SELECT c::text FROM memory_changes c
				UNION ALL SELECT q::text FROM query_logs q UNION ALL SELECT u::text FROM ui_sessions u) x`))
			return []byte(s)
		}}
	})
}
