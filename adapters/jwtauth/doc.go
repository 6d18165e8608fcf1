// Package jwtauth verifies access tokens for Engram: JWTs checked against a
// remote JWKS (keyfunc/v3) or against a local Ed25519 key kept in the data
// directory (zero-config mode), optionally bound to a client key with DPoP
// (RFC 9449). It implements ports.TokenVerifier.
//
// The tenant (org_id) and user (sub) come only from a verified token. Every
// refusal is a *domain.AuthError naming the RFC error code so the HTTP edge can
// build the WWW-Authenticate challenge; anything the verifier cannot decide
// (keys not loaded yet, replay cache down) wraps domain.ErrUnavailable and is
// never treated as success.
//
// The package also holds the client side a test, a benchmark or the CLI needs:
// DPoPProver builds proofs, LocalKey mints tokens, Thumbprint computes RFC 7638
// key thumbprints.
package jwtauth
