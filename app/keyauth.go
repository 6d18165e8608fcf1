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
	p, commit, err := v.VerifyDeferred(ctx, c)
	if err == nil && commit != nil {
		err = commit(ctx)
	}
	if err != nil {
		return domain.Principal{}, err
	}
	return p, nil
}

// VerifyDeferred implements ports.DeferredReplayVerifier: an API key has no
// proof, so only a JWT's DPoP proof leaves a commit.
func (v keyVerifier) VerifyDeferred(ctx context.Context, c ports.Credentials) (domain.Principal, func(context.Context) error, error) {
	isKey := strings.HasPrefix(c.Token, domain.KeyPrefix)
	switch {
	case strings.EqualFold(c.Scheme, SchemeToken):
		if !isKey {
			return domain.Principal{}, nil, &domain.AuthError{Scheme: "Bearer", Code: "invalid_token", Description: "the Token scheme carries an API key (egm_...)"}
		}
	case !isKey:
		return ports.VerifyDeferred(ctx, v.next, c)
	case !strings.EqualFold(c.Scheme, "Bearer"):
		// An API key is not sender-constrained: no DPoP scheme.
		return domain.Principal{}, nil, &domain.AuthError{Scheme: "Bearer", Code: "invalid_request", Description: "an API key is sent as Bearer or Token, not " + c.Scheme}
	}
	p, err := v.s.verifyKey(ctx, c.Token)
	return p, nil, err
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
		if s.unknown.has(hash, now) {
			return domain.Principal{}, &domain.AuthError{Scheme: scheme, Code: "invalid_token", Description: "unknown API key"}
		}
		var err error
		k, err = s.d.Keys.LookupKey(ctx, hash)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			s.unknown.add(hash, now.Add(negativeKeyTTL))
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

// maxUnknownKeys bounds the negative cache; when full it starts over.
const maxUnknownKeys = 10000

// negativeKeyTTL is how long a hash the store did not know is answered
// "unknown" without asking again. A key is random and shown once at its
// creation, so no honest client presents it before it exists: the only
// cost of the TTL is to a guesser. A key created on this instance is
// forgotten here at once anyway.
const negativeKeyTTL = time.Minute

// unknownKeys is the negative cache of key hashes.
type unknownKeys struct {
	mu      sync.Mutex
	max     int
	entries map[string]time.Time
}

func newUnknownKeys(max int) *unknownKeys {
	return &unknownKeys{max: max, entries: make(map[string]time.Time)}
}

func (u *unknownKeys) has(hash string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	until, ok := u.entries[hash]
	return ok && now.Before(until)
}

func (u *unknownKeys) add(hash string, until time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.entries) >= u.max {
		clear(u.entries)
	}
	u.entries[hash] = until
}

func (u *unknownKeys) forget(hash string) {
	u.mu.Lock()
	delete(u.entries, hash)
	u.mu.Unlock()
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
