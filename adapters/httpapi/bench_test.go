package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// The benchmarks put the HTTP stack's cost next to the use case's: the same
// GET by id and POST of a memory made directly on MemoryService and through
// the router (in process, no socket) with Bearer and with DPoP (a fresh
// proof per request, as a client must send). The difference is what the
// transport adds: routing, middleware, token and proof verification, JSON.
//
//	ENGRAM_TEST_POSTGRES_URL=... go test -run '^$' -bench . -benchmem ./adapters/httpapi/

func benchEnv(b *testing.B) (*env, *app.MemoryService, domain.Principal) {
	e := newEnv(b)
	e.skipConformance = true
	// The access log goes nowhere, as it would to a pipe in production;
	// formatting it is still paid.
	e.deps.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	var err error
	e.server, err = newServer(e)
	require.NoError(b, err)
	p := domain.Principal{OrgID: "acme", UserID: "alice", Scopes: domain.DefaultUserScopes, ClientID: "test-agent"}
	return e, e.deps.Memories, p
}

func BenchmarkGetMemory(b *testing.B) {
	e, svc, p := benchEnv(b)
	bearer, dpop := e.user("acme", "alice"), e.dpopUser("acme", "alice")
	m := bearer.add("a memory to read")
	ctx := context.Background()
	target := "/api/v1/memories/" + m.ID

	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.Get(ctx, p, domain.MemoryID(m.ID), ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What the client spends signing a proof, included in http-dpop below.
	b.Run("client-proof-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := dpop.prover.Proof(http.MethodGet, publicURL+target, dpop.token); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, c := range map[string]caller{"http-bearer": bearer, "http-dpop": dpop} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if rec := c.do(http.MethodGet, target, nil); rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

func BenchmarkCreateMemory(b *testing.B) {
	e, svc, p := benchEnv(b)
	dpop := e.dpopUser("acme", "alice")
	ctx := context.Background()
	var n atomic.Int64

	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			text := fmt.Sprintf("direct memory %d", n.Add(1))
			if _, _, err := svc.Add(ctx, p, app.AddInput{Text: text}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http-dpop", func(b *testing.B) {
		for b.Loop() {
			body := map[string]any{"text": fmt.Sprintf("http memory %d", n.Add(1))}
			if rec := dpop.do(http.MethodPost, "/api/v1/memories", body); rec.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkStack isolates the transport: a mounted handler that does
// nothing, behind the full middleware stack (request id, headers, access
// log, token and proof verification, replay cache).
func BenchmarkStack(b *testing.B) {
	e, _, _ := benchEnv(b)
	e.server.Mount("/noop", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	callers := map[string]caller{
		"bearer":       e.user("acme", "alice"),
		"dpop-es256":   e.dpopUser("acme", "alice"),
		"dpop-ed25519": e.dpopUserWithKey(ed25519Key(b), "acme", "alice"),
	}
	for name, c := range callers {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if rec := c.do(http.MethodGet, "/noop", nil); rec.Code != http.StatusNoContent {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
