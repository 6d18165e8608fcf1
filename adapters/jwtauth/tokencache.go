package jwtauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Defaults of the verified-token cache.
const (
	DefaultTokenCacheSize = 10000
	// DefaultTokenCacheTTL bounds how long a verification result is reused,
	// so a key removed from the JWKS stops being honoured within a minute.
	DefaultTokenCacheTTL = time.Minute
)

// tokenCache remembers access tokens whose signature and claims verified, so
// a client repeating its token (every DPoP request does) costs one signature
// check per request — the proof's — instead of two. The key is the SHA-256 of
// the exact token bytes, which DPoP needs for ath anyway; an entry is used
// only while the token is unexpired and for at most ttl after verification.
// Scheme and binding checks still run on every request.
type tokenCache struct {
	mu      sync.RWMutex
	entries map[[32]byte]cachedToken
	size    int
	ttl     time.Duration
}

type cachedToken struct {
	claims *accessClaims
	until  time.Time // min(verified+ttl, exp+leeway)
}

func newTokenCache(size int, ttl time.Duration) *tokenCache {
	if size <= 0 {
		return nil
	}
	return &tokenCache{entries: make(map[[32]byte]cachedToken, min(size, 1024)), size: size, ttl: ttl}
}

func (c *tokenCache) get(sum [32]byte, now time.Time) (*accessClaims, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[sum]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.claims, true
}

func (c *tokenCache) put(sum [32]byte, claims *accessClaims, now time.Time, leeway time.Duration) {
	if c == nil || claims.ExpiresAt == nil {
		return
	}
	until := now.Add(c.ttl)
	if exp := claims.ExpiresAt.Add(leeway); exp.Before(until) {
		until = exp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		// Full: drop expired entries, and if none were, an arbitrary one
		// (map order is randomised). Cheap and bounded; a miss only costs
		// a signature check.
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.size {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[sum] = cachedToken{claims: claims, until: until}
}

func tokenSum(token string) [32]byte { return sha256.Sum256([]byte(token)) }
