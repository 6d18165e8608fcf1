package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkRateLimitedGet is what the rate-limit decision adds to a GET by
// id through the router: no limiter, the in-process one, and Valkey on
// loopback (ENGRAM_TEST_VALKEY_ADDR; one round trip of a Lua script).
//
//	ENGRAM_TEST_VALKEY_ADDR=127.0.0.1:6379 go test -run '^$' -bench RateLimitedGet -benchmem ./adapters/httpapi/
func BenchmarkRateLimitedGet(b *testing.B) {
	limiters := map[string]func(b *testing.B) ports.RateLimiter{
		"none": func(*testing.B) ports.RateLimiter { return nil },
		"inproc": func(b *testing.B) ports.RateLimiter {
			l := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
			b.Cleanup(func() { _ = l.Close() })
			return l
		},
		"valkey": func(b *testing.B) ports.RateLimiter {
			addr := os.Getenv("ENGRAM_TEST_VALKEY_ADDR")
			if addr == "" {
				b.Skip("SKIP valkey: set ENGRAM_TEST_VALKEY_ADDR")
			}
			s, err := valkeystore.Open(context.Background(), valkeystore.Config{URL: "redis://" + addr, Options: valkeystore.Options{Prefix: "httpapi-bench"}})
			require.NoError(b, err)
			b.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
	for _, name := range []string{"none", "inproc", "valkey"} {
		b.Run(name, func(b *testing.B) {
			limiter := limiters[name](b)
			big := ports.RateLimit{Burst: 1 << 30, Period: time.Hour}
			e := newEnv(b, func(o *envOptions) {
				o.limiter, o.limits = limiter, app.RateLimits{Reads: big, Writes: big, Search: big}
			})
			e.skipConformance = true
			e.deps.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
			var err error
			e.server, err = newServer(e)
			require.NoError(b, err)
			alice := e.user("acme", "alice")
			target := "/api/v1/memories/" + alice.add("a memory to read").ID
			for b.Loop() {
				rec := alice.do(http.MethodGet, target, nil)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				if limiter != nil && rec.Header().Get("RateLimit") == "" {
					b.Fatal("no RateLimit header: the limiter did not run")
				}
			}
		})
	}
}
