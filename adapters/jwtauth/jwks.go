package jwtauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/engram-memory/engram/domain"
)

// maxJWKSBytes bounds a JWKS response; real sets are a few KiB.
const maxJWKSBytes = 1 << 20

// NewJWKS returns a verifier trusting the keys published at cfg.JWKSURL. It
// does not fail when the JWKS is unreachable: it tries once now, then keeps
// retrying with backoff in the background until ctx ends or Close is called;
// until keys load, Ready and Verify answer errors wrapping ErrUnavailable.
func NewJWKS(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.JWKSURL == "" || cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("jwtauth: config: JWKSURL, Issuer and Audience are all required with a JWKS")
	}
	src := &jwksSource{cfg: cfg, store: jwkset.NewMemoryStorage(), lastErr: errors.New("not fetched yet")}
	src.kf, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: refreshingStorage{MemoryJWKSet: src.store, src: src}})
	if err != nil {
		return nil, fmt.Errorf("jwtauth: keyfunc: %w", err)
	}
	loopCtx, cancel := context.WithCancel(ctx)
	src.cancel = cancel
	src.fetch(loopCtx)
	go src.loop(loopCtx)
	return newVerifier(cfg, src), nil
}

// jwksSource keeps the remote key set fresh. keyfunc/v3 does kid lookup, the
// JWK alg/use checks and key conversion; fetching is done here so the
// verifier knows whether keys ever loaded (for /readyz) and can retry quickly
// while the identity provider is down, which jwkset's refresher cannot tell.
type jwksSource struct {
	cfg    Config
	store  *jwkset.MemoryJWKSet
	kf     keyfunc.Keyfunc
	cancel context.CancelFunc

	fetchMu sync.Mutex // one fetch at a time
	mu      sync.Mutex // guards the fields below
	loaded  bool
	lastErr error
	// lastUnknown is when an unknown kid last triggered a fetch. Other
	// fetches do not count: neither the start-up fetch nor a periodic one
	// may delay the refresh a freshly rotated key needs (issue 11).
	lastUnknown time.Time
}

func (s *jwksSource) key(ctx context.Context, t *jwt.Token) (any, error) {
	s.mu.Lock()
	loaded, lastErr := s.loaded, s.lastErr
	s.mu.Unlock()
	if !loaded {
		return nil, &domain.UnavailableError{Dependency: "jwks", RetryAfter: 5, Err: lastErr}
	}
	k, err := s.kf.KeyfuncCtx(ctx)(t)
	if errors.Is(err, jwkset.ErrKeyNotFound) {
		return nil, errUnknownKID
	}
	return k, err
}

func (s *jwksSource) ready(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		return fmt.Errorf("jwtauth: jwks %s: %w", s.cfg.JWKSURL, &domain.UnavailableError{Dependency: "jwks", Err: s.lastErr})
	}
	return nil
}

func (s *jwksSource) close() { s.cancel() }

// loop refreshes periodically, and with capped exponential backoff while no
// key set was ever loaded.
func (s *jwksSource) loop(ctx context.Context) {
	backoff := 250 * time.Millisecond
	for {
		s.mu.Lock()
		loaded := s.loaded
		s.mu.Unlock()
		wait := s.cfg.RefreshInterval
		if !loaded {
			wait = backoff
			backoff = min(2*backoff, s.cfg.RetryMax)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		s.fetch(ctx)
	}
}

// fetch downloads and installs the key set. On failure the previous keys stay
// in use: dropping them would turn an identity-provider blip into an outage.
func (s *jwksSource) fetch(ctx context.Context) {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	keys, err := s.download(ctx)
	if err == nil {
		err = s.store.KeyReplaceAll(ctx, keys)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err
	if err == nil {
		s.loaded = true
	}
}

func (s *jwksSource) download(ctx context.Context) ([]jwkset.JWK, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var set jwkset.JWKSMarshal
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	keys := make([]jwkset.JWK, 0, len(set.Keys))
	for _, m := range set.Keys {
		// Private: false drops private members a misconfigured IdP might
		// publish; keys of unsupported types are skipped, not fatal, so one
		// exotic key does not take the whole set down.
		k, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil || m.KID == "" || m.USE == jwkset.UseEnc {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable signing keys in the set")
	}
	return keys, nil
}

// refreshUnknown re-fetches once when a token names a kid not in the set (a
// freshly rotated key), at most once per UnknownKIDInterval counted between
// such refreshes only: the first one is always due.
func (s *jwksSource) refreshUnknown(ctx context.Context) bool {
	s.mu.Lock()
	due := s.lastUnknown.IsZero() || time.Since(s.lastUnknown) >= s.cfg.UnknownKIDInterval
	if due {
		// Claimed now so concurrent misses do not all fetch.
		s.lastUnknown = time.Now()
	}
	s.mu.Unlock()
	if due {
		// A client hanging up must not abort the fetch it paid for.
		s.fetch(context.WithoutCancel(ctx))
	}
	return due
}

// refreshingStorage is the jwkset.Storage keyfunc reads: the in-memory set,
// plus a rate-limited refresh when a kid is missing.
type refreshingStorage struct {
	*jwkset.MemoryJWKSet
	src *jwksSource
}

func (r refreshingStorage) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	k, err := r.MemoryJWKSet.KeyRead(ctx, kid)
	if errors.Is(err, jwkset.ErrKeyNotFound) && r.src.refreshUnknown(ctx) {
		return r.MemoryJWKSet.KeyRead(ctx, kid)
	}
	return k, err
}
