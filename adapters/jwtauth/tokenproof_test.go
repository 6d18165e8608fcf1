package jwtauth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// A proof sent to a token endpoint names no access token: it is checked
// like any proof and yields its key's thumbprint, the cnf.jkt to bind.
func TestTokenRequestProof(t *testing.T) {
	f := newDPoPFixture(t, newECKey(t))
	const tokenURL = testOrigin + "/token"
	ctx := context.Background()
	proof, err := f.prover.ProofAt("POST", tokenURL, "", f.clock.Now())
	require.NoError(t, err)

	_, err = f.v.TokenRequestProof(ctx, proof, "POST", testOrigin+"/other")
	require.ErrorIs(t, err, domain.ErrUnauthenticated, "htu must be the token endpoint")
	jkt, err := f.v.TokenRequestProof(ctx, proof, "POST", tokenURL)
	require.NoError(t, err)
	require.Equal(t, f.prover.JKT(), jkt)
	_, err = f.v.TokenRequestProof(ctx, proof, "POST", tokenURL)
	require.ErrorContains(t, err, "already used")

	withATH := f.proof(t, "POST", tokenURL)
	_, err = f.v.TokenRequestProof(ctx, withATH, "POST", tokenURL)
	require.ErrorContains(t, err, "no ath")
	_, err = f.v.TokenRequestProof(ctx, "not.a.proof", "POST", tokenURL)
	require.ErrorIs(t, err, domain.ErrUnauthenticated)
}
