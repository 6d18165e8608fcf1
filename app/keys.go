package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// KeyDeps are what KeyService needs. Revocations may be nil (one instance,
// or several that accept a revocation reaching them within the cache TTL).
type KeyDeps struct {
	Keys        ports.KeyStore
	Revocations ports.KeyRevocations
	Clock       ports.Clock
	Logger      *slog.Logger
	// CacheTTL bounds how long a verified key is trusted without asking
	// the store; 0 means DefaultKeyCacheTTL.
	CacheTTL time.Duration
}

// DefaultKeyCacheTTL is how long a verified key is served from memory. With
// a revocation feed a revocation evicts it at once; without one this is the
// longest a revoked key keeps working on another instance.
const DefaultKeyCacheTTL = 10 * time.Second

// KeyService issues, lists and revokes API keys and verifies them
// (KeyService.Verifier).
type KeyService struct {
	d     KeyDeps
	cache *keyCache
	// unknown remembers hashes the store did not know (negativeKeyTTL),
	// so a client repeating a junk key costs one lookup, not one per
	// request.
	unknown *unknownKeys
}

// NewKeyService builds the service; its Verifier serves authentication.
func NewKeyService(d KeyDeps) *KeyService {
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.CacheTTL <= 0 {
		d.CacheTTL = DefaultKeyCacheTTL
	}
	return &KeyService{d: d, cache: newKeyCache(maxCachedKeys), unknown: newUnknownKeys(maxUnknownKeys)}
}

// MaxKeyScopes bounds the scopes one key lists (docs/openapi-keys.yaml).
const MaxKeyScopes = 32

// KeyRequest is a key a caller asks for.
type KeyRequest struct {
	Kind      domain.KeyKind // empty means a user key
	Name      string
	Scopes    []domain.Scope // empty means the caller's own scopes
	AppID     domain.AppID
	ExpiresAt time.Time
	// UserID names the user a user key acts as; empty means the caller.
	// Only a caller holding keys:project may name another user.
	UserID domain.UserID
}

// CreateKey issues a key and returns its record and the key itself, which is
// never stored and cannot be shown again. A key never holds a scope its
// issuer lacks; a project key, which acts for every user of the org, needs
// keys:project.
func (s *KeyService) CreateKey(ctx context.Context, p domain.Principal, r KeyRequest) (domain.APIKey, string, error) {
	if err := p.Require(domain.ScopeKeysWrite); err != nil {
		return domain.APIKey{}, "", err
	}
	if p.ProjectKey || p.UserID == "" {
		return domain.APIKey{}, "", &domain.ForbiddenError{Reason: "a project key cannot issue keys"}
	}
	if r.Kind == "" {
		r.Kind = domain.KeyUser
	}
	if r.Kind == domain.KeyProject || (r.UserID != "" && r.UserID != p.UserID) {
		if err := p.Require(domain.ScopeKeysProject); err != nil {
			return domain.APIKey{}, "", err
		}
	}
	if r.Kind == domain.KeyUser && r.UserID == "" {
		r.UserID = p.UserID
	}
	if len(r.Scopes) == 0 {
		r.Scopes = p.Scopes
	}
	if len(r.Scopes) > MaxKeyScopes {
		return domain.APIKey{}, "", domain.Invalid("scopes", "must list at most %d scopes", MaxKeyScopes)
	}
	for _, sc := range r.Scopes {
		if !p.HasScope(sc) {
			return domain.APIKey{}, "", &domain.ForbiddenError{Reason: fmt.Sprintf("a key cannot hold scope %q, which its issuer lacks", sc)}
		}
	}
	rec, key, err := domain.NewAPIKey(domain.APIKey{
		OrgID: p.OrgID, UserID: r.UserID, Kind: r.Kind, Name: r.Name, Scopes: r.Scopes,
		AppID: r.AppID, ExpiresAt: r.ExpiresAt, CreatedBy: p.UserID,
	}, s.d.Clock.Now())
	if err != nil {
		return domain.APIKey{}, "", err
	}
	if err := s.d.Keys.CreateKey(ctx, rec); err != nil {
		return domain.APIKey{}, "", err
	}
	s.unknown.forget(rec.Hash)
	return rec, key, nil
}

// ListKeys returns the caller's own user keys, or every key of the org for a
// caller holding keys:project.
func (s *KeyService) ListKeys(ctx context.Context, p domain.Principal) ([]domain.APIKey, error) {
	if err := p.Require(domain.ScopeKeysWrite); err != nil {
		return nil, err
	}
	user := p.UserID
	if p.HasScope(domain.ScopeKeysProject) {
		user = ""
	} else if user == "" {
		return nil, &domain.ForbiddenError{Reason: "a project key cannot list keys"}
	}
	return s.d.Keys.ListKeys(ctx, p.OrgID, user)
}

// RevokeKey revokes a key: at once on this instance, and on every other
// through the revocation feed. A key the caller may not manage is
// domain.ErrNotFound, like a key of another org.
func (s *KeyService) RevokeKey(ctx context.Context, p domain.Principal, id string) (domain.APIKey, error) {
	if err := p.Require(domain.ScopeKeysWrite); err != nil {
		return domain.APIKey{}, err
	}
	k, err := s.d.Keys.GetKey(ctx, p.OrgID, id)
	if err != nil {
		return domain.APIKey{}, err
	}
	if !p.HasScope(domain.ScopeKeysProject) && (k.Kind != domain.KeyUser || k.UserID != p.UserID || p.UserID == "") {
		return domain.APIKey{}, fmt.Errorf("key %s: %w", id, domain.ErrNotFound)
	}
	k, err = s.d.Keys.RevokeKey(ctx, p.OrgID, id, s.d.Clock.Now())
	if err != nil {
		return domain.APIKey{}, err
	}
	s.cache.forget(k.Hash)
	if s.d.Revocations != nil {
		if err := s.d.Revocations.Publish(ctx, k.Hash); err != nil {
			// The revocation is stored; other instances drop the key
			// within the cache TTL at worst.
			s.d.Logger.WarnContext(ctx, "api key revocation not broadcast", "key_id", k.ID, "err", err)
		}
	}
	return k, nil
}

// Watch applies revocations from other instances until ctx ends. It returns
// once subscribed; nothing to do without a revocation feed.
func (s *KeyService) Watch(ctx context.Context) error {
	if s.d.Revocations == nil {
		return nil
	}
	return s.d.Revocations.Subscribe(ctx, s.cache.forget, s.cache.clear)
}
