package jwtauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
)

// FuzzBearerAndDPoPCredentials drives arbitrary Authorization and DPoP
// header values through the parser every transport shares and then through
// Verify. Whatever the bytes, the answer is a principal with a valid tenant
// or a 401-kind error: never a panic, never "unavailable" (which a caller
// would retry and a breaker would count), never another error kind. The
// checked-in corpus (testdata/fuzz/FuzzBearerAndDPoPCredentials) holds
// malformed and hostile shapes; the seeds added here hold a real token and
// proof, so mutations start from something that almost verifies.
func FuzzBearerAndDPoPCredentials(f *testing.F) {
	key := newECKey(f)
	fx := newDPoPFixture(f, key)
	proof, err := fx.prover.ProofAt("GET", memURL, fx.token, fx.clock.Now())
	require.NoError(f, err)
	f.Add("DPoP "+fx.token, proof)
	f.Add("Bearer "+fx.token, "")
	f.Add("Bearer "+fx.token, proof)
	f.Add("dpop "+fx.token, proof+","+proof)
	f.Fuzz(func(t *testing.T, authz, dpop string) {
		var dpopHeaders []string
		if dpop != "" {
			dpopHeaders = []string{dpop}
		}
		c, err := jwtauth.ParseCredentials([]string{authz}, dpopHeaders)
		if err != nil {
			if !errors.Is(err, jwtauth.ErrNoCredentials) {
				require.ErrorIs(t, err, domain.ErrUnauthenticated)
			}
			return
		}
		c.Method, c.URL = "GET", memURL
		p, err := fx.v.Verify(context.Background(), c)
		if err != nil {
			require.ErrorIs(t, err, domain.ErrUnauthenticated, "%v", err)
			require.NotErrorIs(t, err, domain.ErrUnavailable)
			return
		}
		require.NoError(t, p.Tenant().Validate())
	})
}
