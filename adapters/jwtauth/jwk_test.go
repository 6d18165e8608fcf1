package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
)

// Published test vectors: RFC 7638 §3.1 (RSA) and RFC 8037 Appendix A.3.
const (
	rfc7638Key   = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	rfc7638Thumb = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	rfc8037Key   = `{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	rfc8037Thumb = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
)

func TestThumbprintVectors(t *testing.T) {
	for raw, want := range map[string]string{rfc7638Key: rfc7638Thumb, rfc8037Key: rfc8037Thumb} {
		pub, err := jwtauth.ParsePublicJWK([]byte(raw))
		require.NoError(t, err)
		got, err := jwtauth.Thumbprint(pub)
		require.NoError(t, err)
		require.Equal(t, want, got)
		got, err = jwtauth.ThumbprintJWK([]byte(raw))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	// A private JWK file thumbprints as its public part.
	private := strings.Replace(rfc8037Key, `{`, `{"d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",`, 1)
	got, err := jwtauth.ThumbprintJWK([]byte(private))
	require.NoError(t, err)
	require.Equal(t, rfc8037Thumb, got)
	_, err = jwtauth.ParsePublicJWK([]byte(private))
	require.ErrorContains(t, err, "private")
}

func TestParsePublicJWKRefusesMalformed(t *testing.T) {
	zero32 := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	x31 := base64.RawURLEncoding.EncodeToString(make([]byte, 31))
	one := base64.RawURLEncoding.EncodeToString([]byte{1})
	n1024 := base64.RawURLEncoding.EncodeToString(append([]byte{0xc1}, make([]byte, 127)...))
	n2048 := base64.RawURLEncoding.EncodeToString(append([]byte{0xc1}, make([]byte, 255)...))
	for name, raw := range map[string]string{
		"not json":         `{`,
		"array":            `[]`,
		"null":             `null`,
		"string":           `"EC"`,
		"empty object":     `{}`,
		"kty number":       `{"kty":1}`,
		"kty unknown":      `{"kty":"XYZ"}`,
		"symmetric oct":    `{"kty":"oct","k":"c2VjcmV0"}`,
		"EC with d":        `{"kty":"EC","crv":"P-256","x":"` + zero32 + `","y":"` + zero32 + `","d":"` + zero32 + `"}`,
		"EC P-384":         `{"kty":"EC","crv":"P-384","x":"` + zero32 + `","y":"` + zero32 + `"}`,
		"EC off curve":     `{"kty":"EC","crv":"P-256","x":"` + zero32 + `","y":"` + zero32 + `"}`,
		"EC short x":       `{"kty":"EC","crv":"P-256","x":"` + x31 + `","y":"` + zero32 + `"}`,
		"EC x number":      `{"kty":"EC","crv":"P-256","x":5,"y":"` + zero32 + `"}`,
		"EC y missing":     `{"kty":"EC","crv":"P-256","x":"` + zero32 + `"}`,
		"EC x padded":      `{"kty":"EC","crv":"P-256","x":"` + zero32 + `=","y":"` + zero32 + `"}`,
		"EC x std base64":  `{"kty":"EC","crv":"P-256","x":"++++","y":"` + zero32 + `"}`,
		"OKP X25519":       `{"kty":"OKP","crv":"X25519","x":"` + zero32 + `"}`,
		"OKP short":        `{"kty":"OKP","crv":"Ed25519","x":"` + x31 + `"}`,
		"OKP with d":       `{"kty":"OKP","crv":"Ed25519","x":"` + zero32 + `","d":"` + zero32 + `"}`,
		"OKP x object":     `{"kty":"OKP","crv":"Ed25519","x":{}}`,
		"RSA 1024":         `{"kty":"RSA","n":"` + n1024 + `","e":"AQAB"}`,
		"RSA e=1":          `{"kty":"RSA","n":"` + n2048 + `","e":"` + one + `"}`,
		"RSA e even":       `{"kty":"RSA","n":"` + n2048 + `","e":"AQAA"}`,
		"RSA e too long":   `{"kty":"RSA","n":"` + n2048 + `","e":"AQABAQAB"}`,
		"RSA leading zero": `{"kty":"RSA","n":"AA` + n2048[2:] + `","e":"AQAB"}`,
		"RSA with p":       strings.Replace(rfc7638Key, `"e"`, `"p":"AQAB","e"`, 1),
		"RSA huge n":       `{"kty":"RSA","n":"` + strings.Repeat("w", 3000) + `","e":"AQAB"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := jwtauth.ParsePublicJWK([]byte(raw))
			require.Error(t, err)
		})
	}
}

// FuzzParsePublicJWK: any input is refused or yields a key whose
// thumbprint round-trips; nothing panics.
func FuzzParsePublicJWK(f *testing.F) {
	for _, s := range []string{rfc7638Key, rfc8037Key, `{"kty":"EC","crv":"P-256","x":"","y":""}`, `{"kty":"RSA","n":"AQAB","e":"AQAB"}`, `{}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		pub, err := jwtauth.ParsePublicJWK(raw)
		if err != nil {
			return
		}
		th, err := jwtauth.Thumbprint(pub)
		require.NoError(t, err)
		th2, err := jwtauth.ThumbprintJWK(raw)
		require.NoError(t, err)
		require.Equal(t, th, th2)
	})
}

// FuzzDPoPProofJWK drives arbitrary jwk header values through Verify: the
// answer is always a 401-kind AuthError (or success for the real key's jwk),
// never a panic or another error kind.
func FuzzDPoPProofJWK(f *testing.F) {
	key := newECKey(f)
	b, err := key.PublicKey.Bytes()
	require.NoError(f, err)
	good := `{"kty":"EC","crv":"P-256","x":"` + base64.RawURLEncoding.EncodeToString(b[1:33]) + `","y":"` + base64.RawURLEncoding.EncodeToString(b[33:]) + `"}`
	for _, s := range []string{good, rfc8037Key, rfc7638Key, `{"kty":"EC","d":"x"}`, `[]`, `"s"`, `1`, `{"kty":"OKP","crv":"Ed25519","x":null}`} {
		f.Add(s)
	}
	fx := newDPoPFixture(f, key)
	f.Fuzz(func(t *testing.T, jwk string) {
		if !json.Valid([]byte(jwk)) {
			return
		}
		hdr := `{"alg":"ES256","typ":"dpop+jwt","jwk":` + jwk + `}`
		claims := jwt.MapClaims{"jti": time.Now().String() + jwk, "htm": "GET", "htu": memURL, "iat": fx.clock.Now().Unix()}
		claims["ath"] = athOf(fx.token)
		payload, err := json.Marshal(claims)
		require.NoError(t, err)
		signing := base64.RawURLEncoding.EncodeToString([]byte(hdr)) + "." + base64.RawURLEncoding.EncodeToString(payload)
		sig, err := jwt.SigningMethodES256.Sign(signing, key)
		require.NoError(t, err)
		proof := signing + "." + base64.RawURLEncoding.EncodeToString(sig)
		_, err = fx.v.Verify(context.Background(), fx.creds(proof, "GET", memURL))
		if err != nil {
			require.ErrorIs(t, err, domain.ErrUnauthenticated)
		}
	})
}

func TestProverRefusesUnsupportedKeys(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, err = jwtauth.NewDPoPProver(p384)
	require.Error(t, err)
}
