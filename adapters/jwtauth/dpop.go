package jwtauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// maxJTILen bounds the replay-cache key an attacker can make us store.
const maxJTILen = 256

// proofClaims are the DPoP proof claims of RFC 9449 §4.2.
type proofClaims struct {
	JTI   string           `json:"jti"`
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	ATH   string           `json:"ath"`
	Nonce string           `json:"nonce,omitempty"`
}

// GetExpirationTime and the rest satisfy jwt.Claims; proofs are validated by
// checkProof, not by the parser.
func (p *proofClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (p *proofClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return p.IAT, nil }
func (p *proofClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (p *proofClaims) GetIssuer() (string, error)                   { return "", nil }
func (p *proofClaims) GetSubject() (string, error)                  { return "", nil }
func (p *proofClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// oneTimeUse is what remains to check of a proof that passed every other
// check: that its jti was not seen before. Recording it is a write to the
// replay cache, which the caller makes only once it admits the request
// (after rate limiting), so refused requests cost the cache nothing.
type oneTimeUse struct {
	key   string
	until time.Time
}

// commit records the proof's jti, refusing a replay (RFC 9449 §11.1). It
// fails closed: a proof whose replay could not be ruled out is not
// accepted, whatever error kind the cache returned.
func (v *Verifier) commit(ctx context.Context, u oneTimeUse) error {
	fresh, err := v.cfg.ReplayCache.Remember(ctx, u.key, u.until)
	if err != nil {
		return fmt.Errorf("jwtauth: dpop replay check: %w", &domain.UnavailableError{Dependency: "replay cache", Err: err})
	}
	if !fresh {
		return proofErr("proof jti was already used")
	}
	return nil
}

// checkProof verifies a DPoP proof for a token bound to jkt (RFC 9449 §4.3)
// except its one-time use, which it returns for commit: a proof failing
// any other check never burns its jti.
func (v *Verifier) checkProof(c ports.Credentials, tokenSum [32]byte, jkt string) (oneTimeUse, error) {
	_, use, err := v.inspectProof(c, &tokenSum, jkt)
	return use, err
}

// TokenRequestProof verifies the DPoP proof of a request to a token
// endpoint (RFC 9449 §5): there is no access token yet, so no ath and no
// key to match; every other check (signature, typ, htm, htu, iat window,
// replay) is the same. It returns the proof key's RFC 7638 thumbprint, the
// cnf.jkt to bind the new token to.
func (v *Verifier) TokenRequestProof(ctx context.Context, proof, method, url string) (string, error) {
	return v.verifyProof(ctx, ports.Credentials{DPoPProof: proof, Method: method, URL: url}, nil, "")
}

// verifyProof is inspectProof and its commit, for the token endpoint.
func (v *Verifier) verifyProof(ctx context.Context, c ports.Credentials, tokenSum *[32]byte, jkt string) (string, error) {
	keyJKT, use, err := v.inspectProof(c, tokenSum, jkt)
	if err != nil {
		return "", err
	}
	if err := v.commit(ctx, use); err != nil {
		return "", err
	}
	return keyJKT, nil
}

// inspectProof is every check of a proof but its one-time use: tokenSum
// nil means a proof that must carry no ath, and jkt "" accepts any key,
// whose thumbprint it returns.
func (v *Verifier) inspectProof(c ports.Credentials, tokenSum *[32]byte, jkt string) (string, oneTimeUse, error) {
	if len(c.DPoPProof) > maxTokenLen || strings.Contains(c.DPoPProof, ",") {
		return "", oneTimeUse{}, proofErr("exactly one DPoP proof is required")
	}
	var claims proofClaims
	var keyJKT string
	_, err := v.proofParser.ParseWithClaims(c.DPoPProof, &claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "dpop+jwt" {
			return nil, errors.New("typ must be dpop+jwt")
		}
		if _, ok := t.Header["crit"]; ok {
			return nil, errCrit
		}
		m, ok := t.Header["jwk"].(map[string]any)
		if !ok {
			return nil, errors.New("jwk header must be a JSON object")
		}
		pub, err := parseJWKMap(m)
		if err != nil {
			return nil, err
		}
		keyJKT, err = Thumbprint(pub)
		if err != nil {
			return nil, err
		}
		// Checked before the signature: a proof made with any other key
		// is refused without spending a verification on it.
		if jkt != "" && subtle.ConstantTimeCompare([]byte(keyJKT), []byte(jkt)) != 1 {
			return nil, errJKTMismatch
		}
		return pub, nil
	})
	switch {
	case errors.Is(err, errJKTMismatch):
		return "", oneTimeUse{}, proofErr("proof key does not match the token's cnf.jkt")
	case err != nil:
		return "", oneTimeUse{}, proofErr("proof is malformed or its signature is invalid")
	}
	if claims.HTM != c.Method {
		return "", oneTimeUse{}, proofErr("htm does not match the request method")
	}
	want, err := v.requestURL(c.URL)
	if err != nil {
		return "", oneTimeUse{}, fmt.Errorf("jwtauth: dpop: request URL: %w", err)
	}
	if got, err := NormalizeHTU(claims.HTU); err != nil || got != want {
		return "", oneTimeUse{}, proofErr("htu does not match the request URL")
	}
	if claims.IAT == nil {
		return "", oneTimeUse{}, proofErr("proof has no iat")
	}
	iat := claims.IAT.Time
	now := v.cfg.Clock.Now()
	if iat.Before(now.Add(-v.cfg.ProofMaxAge-v.cfg.Leeway)) || iat.After(now.Add(v.cfg.Leeway)) {
		return "", oneTimeUse{}, proofErr("proof iat is outside the acceptance window")
	}
	if tokenSum == nil && claims.ATH != "" {
		return "", oneTimeUse{}, proofErr("a proof sent for a new token must carry no ath")
	}
	if tokenSum != nil && subtle.ConstantTimeCompare([]byte(claims.ATH), []byte(b64.EncodeToString(tokenSum[:]))) != 1 {
		return "", oneTimeUse{}, proofErr("ath does not match the access token")
	}
	if claims.JTI == "" || len(claims.JTI) > maxJTILen {
		return "", oneTimeUse{}, proofErr("proof jti is missing or too long")
	}
	// The entry must outlive the last instant this proof's iat is accepted.
	until := iat.Add(v.cfg.ProofMaxAge + v.cfg.Leeway + time.Second)
	return keyJKT, oneTimeUse{key: "dpop:" + keyJKT + ":" + claims.JTI, until: until}, nil
}

var errJKTMismatch = errors.New("proof key is not the token's key")

func proofErr(desc string) error { return authErr(SchemeDPoP, "invalid_dpop_proof", desc) }

// requestURL normalises the URL the caller says was requested; a bare path
// is resolved against the configured public origin.
func (v *Verifier) requestURL(u string) (string, error) {
	if strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") {
		if v.cfg.PublicURL == "" {
			return "", errors.New("a path-only URL needs Config.PublicURL")
		}
		u = strings.TrimRight(v.cfg.PublicURL, "/") + u
	}
	return NormalizeHTU(u)
}

// NormalizeHTU normalises an http(s) URL for the htu comparison of RFC 9449
// §4.3 (RFC 3986 §6.2.2-6.2.3): lower-case scheme and host, default port
// dropped, empty path as "/", percent-encoding normalised, dot segments
// removed, query and fragment dropped. Only unreserved characters are
// decoded: %2F stays %2F, because '/' is reserved and an encoded one is
// data, not a separator (so /api%2Fv1/memories is not /api/v1/memories).
func NormalizeHTU(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.User != nil {
		return "", errors.New("htu must be an absolute http(s) URL")
	}
	host := strings.ToLower(u.Hostname())
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") { // IPv6 literal keeps its brackets
		host = "[" + host + "]"
	}
	return scheme + "://" + host + normalizePath(u.EscapedPath()), nil
}
