package app_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkKeyVerify measures one API key verification: cache=on is a
// client repeating its key within the cache TTL (hash, map lookup,
// constant-time compare, expiry check); cache=off reads the key from the
// SQLite store every time. Compare with jwtauth's BenchmarkVerifyBearer.
func BenchmarkKeyVerify(b *testing.B) {
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(b.TempDir(), "engram.db")})
	require.NoError(b, err)
	b.Cleanup(func() { _ = st.Close() })
	for name, ttl := range map[string]time.Duration{"cache=on": time.Hour, "cache=off": time.Nanosecond} {
		b.Run(name, func(b *testing.B) {
			svc := app.NewKeyService(app.KeyDeps{Keys: st, CacheTTL: ttl})
			_, key, err := svc.CreateKey(context.Background(), admin, app.KeyRequest{})
			require.NoError(b, err)
			v := svc.Verifier(&jwtSeen{})
			c := ports.Credentials{Scheme: "Token", Token: key}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
