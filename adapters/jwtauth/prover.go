package jwtauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DPoPProver is the client side of DPoP: it holds a private key and signs one
// proof per request. Tests, `engram bench http` and the CLI use it; it is safe
// for concurrent use.
type DPoPProver struct {
	key    crypto.Signer
	method jwt.SigningMethod
	jwk    map[string]string
	jkt    string
}

// NewDPoPProver wraps an ECDSA P-256 (ES256), Ed25519 (EdDSA) or RSA (RS256)
// private key.
func NewDPoPProver(key crypto.Signer) (*DPoPProver, error) {
	var method jwt.SigningMethod
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("jwtauth: DPoP key must be P-256")
		}
		method = jwt.SigningMethodES256
	case ed25519.PrivateKey:
		method = jwt.SigningMethodEdDSA
	case *rsa.PrivateKey:
		method = jwt.SigningMethodRS256
	default:
		return nil, fmt.Errorf("jwtauth: unsupported DPoP key type %T", key)
	}
	jwk, err := publicJWK(key.Public())
	if err != nil {
		return nil, fmt.Errorf("jwtauth: DPoP key: %w", err)
	}
	jkt, err := Thumbprint(key.Public())
	if err != nil {
		return nil, fmt.Errorf("jwtauth: DPoP key: %w", err)
	}
	return &DPoPProver{key: key, method: method, jwk: jwk, jkt: jkt}, nil
}

// JKT is the key's RFC 7638 thumbprint, the cnf.jkt a token bound to this
// key carries.
func (p *DPoPProver) JKT() string { return p.jkt }

// Proof returns a proof for one request; accessToken sets ath and may be
// empty (a proof sent to a token endpoint).
func (p *DPoPProver) Proof(method, url, accessToken string) (string, error) {
	return p.ProofAt(method, url, accessToken, time.Now())
}

// ProofAt is Proof with an explicit iat.
func (p *DPoPProver) ProofAt(method, url, accessToken string, iat time.Time) (string, error) {
	htu, err := NormalizeHTU(url)
	if err != nil {
		return "", fmt.Errorf("jwtauth: DPoP proof: %w", err)
	}
	claims := jwt.MapClaims{"jti": randomID(), "htm": method, "htu": htu, "iat": iat.Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64.EncodeToString(sum[:])
	}
	t := jwt.NewWithClaims(p.method, claims)
	t.Header["typ"] = "dpop+jwt"
	t.Header["jwk"] = p.jwk
	s, err := t.SignedString(p.key)
	if err != nil {
		return "", fmt.Errorf("jwtauth: DPoP proof: %w", err)
	}
	return s, nil
}
