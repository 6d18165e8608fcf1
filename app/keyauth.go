package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// SchemeToken is mem0's Authorization scheme ("Token <key>"). Engram accepts
// a key there and after "Bearer"; a JWT only after Bearer or DPoP.
const SchemeToken = "Token"

// maxCachedKeys bounds the verified-key cache; when full it starts over
// rather than tracking recency on every request.
const maxCachedKeys = 10000

// touchEvery is how stale a key's last-used time may get: the store is
// written at most this often per key (and per instance).
const touchEvery = time.Minute

// Verifier returns a ports.TokenVerifier that checks API keys itself and
// hands every other credential to next (the JWT verifier).
func (s *KeyService) Verifier(next ports.TokenVerifier) ports.TokenVerifier {
	return keyVerifier{s: s, next: next}
}

type keyVerifier struct {
	s    *KeyService
	next ports.TokenVerifier
}

// Verify implements ports.TokenVerifier.
func (v keyVerifier) Verify(ctx context.Context, c ports.Credentials) (domain.Principal, error) {
	isKey := strings.HasPrefix(c.Token, domain.KeyPrefix)
	switch {
	case strings.EqualFold(c.Scheme, SchemeToken):
		if !isKey {
			return domain.Principal{}, &domain.AuthError{Scheme: "Bearer", Code: "invalid_token", Description: "the Token scheme carries an API key (egm_...)"}
		}
	case !isKey:
		return v.next.Verify(ctx, c)
	case !strings.EqualFold(c.Scheme, "Bearer"):
		// An API key is not sender-constrained: no DPoP scheme.
		return domain.Principal{}, &domain.AuthError{Scheme: "Bearer", Code: "invalid_request", Description: "an API key is sent as Bearer or Token, not " + c.Scheme}
	}
	return v.s.verifyKey(ctx, c.Token)
}

func (s *KeyService) verifyKey(ctx context.Context, key string) (domain.Principal, error) {
	const scheme = "Bearer"
	if !domain.LooksLikeKey(key) {
		return domain.Principal{}, &domain.AuthError{Scheme: scheme, Code: "invalid_token", Description: "malformed API key"}
	}
	hash := domain.HashKey(key)
	now := s.d.Clock.Now()
	k, gen, ok := s.cache.get(hash, now)
	if !ok {
		var err error
		k, err = s.d.Keys.LookupKey(ctx, hash)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			return domain.Principal{}, &domain.AuthError{Scheme: scheme, Code: "invalid_token", Description: "unknown API key"}
		case err != nil:
			return domain.Principal{}, err
		}
		if now.Sub(k.LastUsedAt) >= touchEvery && k.RevokedAt.IsZero() {
			if err := s.d.Keys.TouchKey(ctx, k.OrgID, k.ID, now); err == nil {
				k.LastUsedAt = now
			} else {
				s.d.Logger.WarnContext(ctx, "api key last-used time not recorded", "key_id", k.ID, "err", err)
			}
		}
		s.cache.put(hash, k, now.Add(s.d.CacheTTL), gen)
	}
	// The store found the row by an index on the hash; compare again in
	// constant time so that no code path answers by comparing key bytes.
	if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 {
		return domain.Principal{}, &domain.AuthError{Scheme: scheme, Code: "invalid_token", Description: "unknown API key"}
	}
	if err := k.Usable(scheme, now); err != nil {
		return domain.Principal{}, err
	}
	return k.Principal(), nil
}

// keyCache maps a key's hash to its record until an expiry.
type keyCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]cachedKey
	// gen counts evictions: a lookup that raced a revocation (read the row
	// before it was revoked, finished after the eviction) must not put the
	// stale record back.
	gen uint64
}

type cachedKey struct {
	k     domain.APIKey
	until time.Time
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, entries: make(map[string]cachedKey)}
}

// get returns the cached record, or the generation a later put must quote.
func (c *keyCache) get(hash string, now time.Time) (domain.APIKey, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || !now.Before(e.until) {
		return domain.APIKey{}, c.gen, false
	}
	return e.k, c.gen, true
}

// put caches k unless an eviction happened since gen was read.
func (c *keyCache) put(hash string, k domain.APIKey, until time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[hash] = cachedKey{k: k, until: until}
}

func (c *keyCache) forget(hash string) {
	c.mu.Lock()
	delete(c.entries, hash)
	c.gen++
	c.mu.Unlock()
}

func (c *keyCache) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.gen++
	c.mu.Unlock()
}
