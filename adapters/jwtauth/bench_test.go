package jwtauth_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkVerifyBearer measures one access-token verification per issuer
// key type: with the token cache off (signature, claims, principal every
// time) and on (a client repeating its token).
func BenchmarkVerifyBearer(b *testing.B) {
	rs, es, ed := testKeys(b)
	clock := newTestClock(time.Now())
	srv := newJWKSServer(b, rs, es, ed)
	uncached, _ := newJWKSVerifier(b, srv, clock, func(c *jwtauth.Config) { c.TokenCacheSize = -1 })
	cached, _ := newJWKSVerifier(b, srv, clock, nil)
	for _, k := range []signingKey{ed, es, rs} {
		for name, v := range map[string]*jwtauth.Verifier{"cache=off": uncached, "cache=on": cached} {
			b.Run(k.alg+"/"+name, func(b *testing.B) {
				c := ports.Credentials{Scheme: "Bearer", Token: sign(b, k, baseClaims(clock.Now()), nil)}
				b.ReportAllocs()
				cpu := processCPU()
				for b.Loop() {
					if _, err := v.Verify(context.Background(), c); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, processCPU()-cpu)
			})
		}
	}
}

// BenchmarkVerifyDPoP measures token plus proof verification including the
// replay-cache write, per proof key type (access token signed with EdDSA).
// Proofs are made ahead of the timed loop: each is accepted once.
func BenchmarkVerifyDPoP(b *testing.B) {
	rs, _, _ := testKeys(b)
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err)
	for _, c := range []struct {
		name string
		key  crypto.Signer
	}{{"proof=EdDSA", edPriv}, {"proof=ES256", newECKey(b)}, {"proof=RS256", rs.priv}} {
		b.Run(c.name, func(b *testing.B) {
			f := newDPoPFixture(b, c.key)
			const batch = 4096
			proofs := make([]string, batch)
			for i := range proofs {
				p, err := f.prover.ProofAt("GET", memURL, f.token, f.clock.Now())
				require.NoError(b, err)
				proofs[i] = p
			}
			b.ReportAllocs()
			i := 0
			var cpu int64
			start := processCPU()
			for b.Loop() {
				if i == batch { // proofs used up: refill off the clock
					b.StopTimer()
					cpu += processCPU() - start
					for j := range proofs {
						proofs[j], _ = f.prover.ProofAt("GET", memURL, f.token, f.clock.Now())
					}
					i = 0
					start = processCPU()
					b.StartTimer()
				}
				if _, err := f.v.Verify(context.Background(), f.creds(proofs[i], "GET", memURL)); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportCPU(b, cpu+processCPU()-start)
		})
	}
}

// reportCPU adds cpu-ns/op: process CPU time per operation.
func reportCPU(b *testing.B, cpuNS int64) {
	if b.N > 0 && cpuNS > 0 {
		b.ReportMetric(float64(cpuNS)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkRawEd25519Verify is the floor: the bare signature check that one
// uncached EdDSA verification cannot go below. On a loaded machine, compare
// the others against it rather than against absolute figures.
func BenchmarkRawEd25519Verify(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err)
	msg := []byte("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyLTEifQ")
	sig := ed25519.Sign(priv, msg)
	cpu := processCPU()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify failed")
		}
	}
	reportCPU(b, processCPU()-cpu)
}
