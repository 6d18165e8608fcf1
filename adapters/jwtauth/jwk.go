package jwtauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// b64 is the JOSE base64url alphabet without padding; Strict refuses
// non-canonical trailing bits so one key has exactly one encoding, which the
// thumbprint comparison relies on.
var b64 = base64.RawURLEncoding.Strict()

// RSA moduli outside this range are refused: small ones are weak and huge ones
// make every verification a CPU sink an attacker controls.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// privateMembers are JWK members that only a private (or symmetric) key has.
// A DPoP proof carrying one leaks the client's key; it is refused outright.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParsePublicJWK parses one public JWK (RFC 7517) of the kinds the allow list
// can verify: EC P-256, OKP Ed25519 and RSA (2048-8192 bits). It refuses
// private key material, unknown kty or crv, wrong member types and off-curve
// points with an error; it never panics on any input.
func ParsePublicJWK(raw []byte) (crypto.PublicKey, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("jwk is not a JSON object: %w", err)
	}
	return parseJWKMap(m)
}

// parseJWKMap is ParsePublicJWK on an already decoded object, which is what a
// JWT header's jwk member is after golang-jwt decoded it.
func parseJWKMap(m map[string]any) (crypto.PublicKey, error) {
	if m == nil {
		return nil, errors.New("jwk is not an object")
	}
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return nil, fmt.Errorf("jwk contains private member %q", name)
		}
	}
	kty, err := member(m, "kty")
	if err != nil {
		return nil, err
	}
	switch kty {
	case "EC":
		return parseECJWK(m)
	case "OKP":
		return parseOKPJWK(m)
	case "RSA":
		return parseRSAJWK(m)
	default:
		return nil, fmt.Errorf("jwk kty %q is not supported", kty)
	}
}

func parseECJWK(m map[string]any) (crypto.PublicKey, error) {
	if crv, err := member(m, "crv"); err != nil || crv != "P-256" {
		return nil, errors.New("jwk EC key must have crv P-256")
	}
	x, err := octets(m, "x", 32)
	if err != nil {
		return nil, err
	}
	y, err := octets(m, "y", 32)
	if err != nil {
		return nil, err
	}
	point := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return nil, fmt.Errorf("jwk EC point is invalid: %w", err)
	}
	return pub, nil
}

func parseOKPJWK(m map[string]any) (crypto.PublicKey, error) {
	if crv, err := member(m, "crv"); err != nil || crv != "Ed25519" {
		return nil, errors.New("jwk OKP key must have crv Ed25519")
	}
	x, err := octets(m, "x", ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	return ed25519.PublicKey(x), nil
}

func parseRSAJWK(m map[string]any) (crypto.PublicKey, error) {
	n, err := octets(m, "n", 0)
	if err != nil {
		return nil, err
	}
	e, err := octets(m, "e", 0)
	if err != nil {
		return nil, err
	}
	if n[0] == 0 || e[0] == 0 || len(e) > 4 {
		return nil, errors.New("jwk RSA n or e is not a minimal positive integer")
	}
	var eb [4]byte
	copy(eb[4-len(e):], e)
	exp := binary.BigEndian.Uint32(eb[:])
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, errors.New("jwk RSA exponent is invalid")
	}
	mod := new(big.Int).SetBytes(n)
	if bits := mod.BitLen(); bits < minRSABits || bits > maxRSABits {
		return nil, fmt.Errorf("jwk RSA modulus of %d bits is outside %d-%d", bits, minRSABits, maxRSABits)
	}
	return &rsa.PublicKey{N: mod, E: int(exp)}, nil
}

// member returns a required string member.
func member(m map[string]any, name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", fmt.Errorf("jwk lacks %q", name)
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("jwk %q is not a non-empty string", name)
	}
	return s, nil
}

// octets decodes a base64url member; size > 0 demands an exact length.
func octets(m map[string]any, name string, size int) ([]byte, error) {
	s, err := member(m, name)
	if err != nil {
		return nil, err
	}
	if len(s) > 2048 { // 8192-bit modulus is 1366 characters
		return nil, fmt.Errorf("jwk %q is too long", name)
	}
	b, err := b64.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("jwk %q is not base64url", name)
	}
	if size > 0 && len(b) != size {
		return nil, fmt.Errorf("jwk %q must be %d bytes", name, size)
	}
	return b, nil
}

// publicJWK returns the required public members of key (RFC 7638 §3.2), which
// are both a valid JWK for a DPoP header and the thumbprint input.
func publicJWK(key crypto.PublicKey) (map[string]string, error) {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("only P-256 EC keys are supported")
		}
		b, err := k.Bytes()
		if err != nil {
			return nil, err
		}
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(b[1:33]), "y": b64.EncodeToString(b[33:])}, nil
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(k)}, nil
	case *rsa.PublicKey:
		e := big.NewInt(int64(k.E)).Bytes()
		return map[string]string{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(e)}, nil
	default:
		return nil, fmt.Errorf("unsupported public key type %T", key)
	}
}

// Thumbprint is the RFC 7638 SHA-256 JWK thumbprint of a public key, base64url
// encoded: the value of cnf.jkt in a DPoP-bound token.
func Thumbprint(key crypto.PublicKey) (string, error) {
	m, err := publicJWK(key)
	if err != nil {
		return "", err
	}
	// encoding/json writes map keys sorted and without whitespace, which is
	// exactly RFC 7638's canonical form for these ASCII-only members.
	canon, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return b64.EncodeToString(sum[:]), nil
}

// ThumbprintJWK computes the thumbprint of a JWK document that may be public or
// private (a client's key file): private members are ignored, the public part
// is validated as ParsePublicJWK does.
func ThumbprintJWK(raw []byte) (string, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", fmt.Errorf("jwk is not a JSON object: %w", err)
	}
	for _, name := range privateMembers {
		delete(m, name)
	}
	pub, err := parseJWKMap(m)
	if err != nil {
		return "", err
	}
	return Thumbprint(pub)
}
