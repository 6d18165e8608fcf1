package contracttest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// SessionKeys is a ports.SessionKeys in memory for session store tests:
// with On set, every user gets a data key on first use; Destroy plays an
// erasure.
type SessionKeys struct {
	mu   sync.Mutex
	On   bool
	keys map[domain.Tenant]*ports.DataKey
}

// NewSessionKeys returns keys with encryption on.
func NewSessionKeys() *SessionKeys {
	return &SessionKeys{On: true, keys: map[domain.Tenant]*ports.DataKey{}}
}

// SealingKey implements ports.SessionKeys.
func (k *SessionKeys) SealingKey(ctx context.Context, t domain.Tenant) (*ports.DataKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.On {
		return nil, nil
	}
	if dk := k.keys[t]; dk != nil {
		return dk, nil
	}
	dk, _, _, err := ports.NewDataKey(ctx, clearWrapper{}, t)
	if err == nil {
		k.keys[t] = dk
	}
	return dk, err
}

// OpeningKey implements ports.SessionKeys.
func (k *SessionKeys) OpeningKey(_ context.Context, t domain.Tenant) (*ports.DataKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[t], nil
}

// Destroy forgets t's key, as erasure does.
func (k *SessionKeys) Destroy(t domain.Tenant) {
	k.mu.Lock()
	delete(k.keys, t)
	k.mu.Unlock()
}

func (k *SessionKeys) setOn(on bool) {
	k.mu.Lock()
	k.On = on
	k.mu.Unlock()
}

// clearWrapper "wraps" a key by copying it: the fake holds keys in memory
// only, so there is nothing to protect.
type clearWrapper struct{}

func (clearWrapper) KeyID() string { return "clear" }
func (clearWrapper) Wrap(_ context.Context, dek, _ []byte) ([]byte, error) {
	return append([]byte(nil), dek...), nil
}
func (clearWrapper) Unwrap(_ context.Context, _ string, w, _ []byte) ([]byte, error) {
	return append([]byte(nil), w...), nil
}

// RunSealedSessionStore checks a ports.SessionStore given data keys
// (docs/privacy.md, "Encryption at rest"): the whole RunSessionStore suite
// holds with every event sealed, what the store holds (atRest: every key
// and value, or every held event) has none of the words of an event's
// text or metadata, the byte quota counts the sealed size, events written
// before encryption was on still read, and a destroyed key reads nothing.
func RunSealedSessionStore(t *testing.T, newStore func(t *testing.T, s SessionSetup) ports.SessionStore, atRest func(t *testing.T, s ports.SessionStore) string) {
	t.Run("Sealed", func(t *testing.T) {
		RunSessionStore(t, func(t *testing.T, s SessionSetup) ports.SessionStore {
			s.Keys = NewSessionKeys()
			// The quota cases size their quotas in events of about 1 KiB
			// as written; sealed, each takes about 1.5 KiB (base64 of the
			// ciphertext), so the quota grows alike.
			s.MaxBytesPerUser = s.MaxBytesPerUser * 7 / 5
			return newStore(t, s)
		})
	})

	t.Run("Sealed/AtRestNoPlaintext", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{Keys: NewSessionKeys()})
		ctx := context.Background()
		e, err := domain.NewSessionEvent(domain.RoleUser, "I told you about zanzibarcanary", domain.Metadata{"note": "quokkacanary here", "n": 2.0}, time.Now())
		require.NoError(t, err)
		stored, err := s.Append(ctx, tenantA, "s1", e)
		require.NoError(t, err)
		requireSameEvent(t, e, stored)
		raw := atRest(t, s)
		require.Contains(t, raw, ports.SealedPrefix[1:], "the event is held sealed (its ESC may be escaped)")
		require.NotContains(t, raw, "zanzibarcanary", "no word of its text is held in the clear")
		require.NotContains(t, raw, "quokkacanary", "nor of its metadata")
		got, err := s.Recent(ctx, tenantA, "s1", 5)
		require.NoError(t, err)
		require.Len(t, got, 1)
		requireSameEvent(t, e, got[0])
		evs, err := s.Events(ctx, tenantA, "s1", []string{e.ID})
		require.NoError(t, err)
		requireSameEvent(t, e, evs[0])
		found, err := s.FindMention(ctx, tenantA, "s1", "ZANZIBAR")
		require.NoError(t, err, "mentions are found in the opened text")
		require.Equal(t, e.ID, found.ID)
		_, err = s.FindMention(ctx, tenantA, "s1", "engram:v1")
		require.ErrorIs(t, err, domain.ErrNotFound, "never in the sealed form")
	})

	t.Run("Sealed/QuotaCountsSealedSize", func(t *testing.T) {
		t.Parallel()
		// 3,000 bytes of text: about 3.1 KB as written, over 4 KB sealed
		// (base64 of the ciphertext). A 3,600-byte quota holds it only
		// unsealed.
		e, err := domain.NewSessionEvent(domain.RoleUser, strings.Repeat("w", 3000), nil, time.Now())
		require.NoError(t, err)
		_, err = newStore(t, SessionSetup{MaxBytesPerUser: 3600}).Append(context.Background(), tenantA, "s1", e)
		require.NoError(t, err, "as written it fits")
		_, err = newStore(t, SessionSetup{MaxBytesPerUser: 3600, Keys: NewSessionKeys()}).Append(context.Background(), tenantA, "s1", e)
		require.ErrorIs(t, err, domain.ErrRateLimited, "sealed it does not: the quota counts what is stored")
	})

	t.Run("Sealed/PlainEventsStillRead", func(t *testing.T) {
		t.Parallel()
		keys := NewSessionKeys()
		keys.setOn(false)
		s := newStore(t, SessionSetup{Keys: keys})
		ctx := context.Background()
		_, err := s.Append(ctx, tenantA, "s1", event(t, domain.RoleUser, ports.SealedPrefix+"forged", time.Now()))
		require.ErrorIs(t, err, domain.ErrInvalid, "plaintext that looks sealed is refused")
		before := appendN(t, s, tenantA, "s1", 1)[0]
		keys.setOn(true)
		after := appendN(t, s, tenantA, "s1", 1)[0]
		got, err := s.Recent(ctx, tenantA, "s1", 5)
		require.NoError(t, err)
		require.Len(t, got, 2)
		requireSameEvent(t, after, got[0])
		requireSameEvent(t, before, got[1])
	})

	t.Run("Sealed/DestroyedKeyReadsNothing", func(t *testing.T) {
		t.Parallel()
		keys := NewSessionKeys()
		s := newStore(t, SessionSetup{Keys: keys})
		ctx := context.Background()
		evs := appendN(t, s, tenantA, "s1", 2)
		appendN(t, s, tenantA2, "s1", 1)
		keys.Destroy(tenantA)
		_, err := s.Recent(ctx, tenantA, "s1", 5)
		require.ErrorIs(t, err, ports.ErrKeyDestroyed)
		_, err = s.Events(ctx, tenantA, "s1", []string{evs[0].ID})
		require.ErrorIs(t, err, ports.ErrKeyDestroyed)
		_, err = s.FindMention(ctx, tenantA, "s1", "message")
		require.ErrorIs(t, err, ports.ErrKeyDestroyed)
		got, err := s.Recent(ctx, tenantA2, "s1", 5)
		require.NoError(t, err)
		require.Len(t, got, 1, "another user's events still read")
	})
}
