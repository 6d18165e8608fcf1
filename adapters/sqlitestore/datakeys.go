package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// keyring caches unwrapped data keys by tenant. A key enters the cache only
// once it is committed, so a rolled-back write never leaves a key that the
// store does not hold. Erasure evicts the subject's keys.
type keyring struct {
	w       ports.KeyWrapper
	encrypt bool
	mu      sync.RWMutex
	cache   map[domain.Tenant]*ports.DataKey
}

func (k *keyring) cached(t domain.Tenant) *ports.DataKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.cache[t]
}

func (k *keyring) put(t domain.Tenant, dk *ports.DataKey) {
	k.mu.Lock()
	if k.cache == nil {
		k.cache = map[domain.Tenant]*ports.DataKey{}
	}
	k.cache[t] = dk
	k.mu.Unlock()
}

func (k *keyring) forget(subj domain.Subject) {
	k.mu.Lock()
	for t := range k.cache {
		if t.OrgID == subj.OrgID && (subj.OrgWide() || t.UserID == subj.UserID) {
			delete(k.cache, t)
		}
	}
	k.mu.Unlock()
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// findKey returns t's data key, or nil when t has none (or no key-encryption
// key is configured). Read through the read pool (committed rows) it is
// cached.
func (s *Store) findKey(ctx context.Context, q rowQuerier, t domain.Tenant) (*ports.DataKey, error) {
	if s.keys.w == nil {
		return nil, nil
	}
	if dk := s.keys.cached(t); dk != nil {
		return dk, nil
	}
	var (
		kek     string
		wrapped []byte
	)
	err := q.QueryRowContext(ctx, `SELECT kek_id, wrapped FROM data_keys WHERE org_id = ? AND user_id = ?`,
		string(t.OrgID), string(t.UserID)).Scan(&kek, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	dk, err := ports.OpenDataKey(ctx, s.keys.w, t, kek, wrapped)
	if err != nil {
		return nil, err
	}
	if q == s.r {
		s.keys.put(t, dk)
	}
	return dk, nil
}

// sealingKey returns the key new values of t are sealed with, creating and
// committing it when t has none: nil when encryption is off. It runs its
// own write transaction, so it is called before the caller's.
func (s *Store) sealingKey(ctx context.Context, t domain.Tenant) (*ports.DataKey, error) {
	if !s.keys.encrypt {
		return nil, nil
	}
	if dk, err := s.findKey(ctx, s.r, t); dk != nil || err != nil {
		return dk, err
	}
	_, kek, wrapped, err := ports.NewDataKey(ctx, s.keys.w, t)
	if err != nil {
		return nil, err
	}
	// OR IGNORE: a concurrent writer may have made one first; both then
	// read the one stored.
	if err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO data_keys (org_id, user_id, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?, ?)`,
			string(t.OrgID), string(t.UserID), kek, wrapped, time.Now().UnixNano())
		return mapErr(err)
	}); err != nil {
		return nil, fmt.Errorf("store data key: %w", err)
	}
	dk, err := s.findKey(ctx, s.r, t)
	if err == nil && dk == nil {
		// Erased between the insert and the read: the subject is gone.
		err = ports.ErrKeyDestroyed
	}
	return dk, err
}

// sealText is the stored form of a memory's text: sealed with dk, or as is
// when encryption is off. A text that looks sealed is never stored as
// plaintext (it would be read back as a sealed value).
func sealText(dk *ports.DataKey, id domain.MemoryID, text string) (string, error) {
	if dk != nil {
		return dk.Seal(string(id), "text", text), nil
	}
	if ports.Sealed(text) {
		return "", domain.Invalid("text", "must not begin with the reserved prefix of sealed values")
	}
	return text, nil
}

// openText reads a stored text of t's memory id.
func (s *Store) openText(ctx context.Context, q rowQuerier, t domain.Tenant, id domain.MemoryID, stored string) (string, error) {
	if !ports.Sealed(stored) {
		return stored, nil
	}
	if s.keys.w == nil {
		return "", fmt.Errorf("memory %s is encrypted and no key-encryption key is configured (ENGRAM_KEK or the data directory's %s)", id, "data-keys.kek")
	}
	dk, err := s.findKey(ctx, q, t)
	if err != nil {
		return "", err
	}
	if dk == nil {
		return "", fmt.Errorf("memory %s: %w", id, ports.ErrKeyDestroyed)
	}
	return dk.Open(string(id), "text", stored)
}

// openMemory replaces m's stored text with the plaintext.
func (s *Store) openMemory(ctx context.Context, q rowQuerier, m *domain.Memory) error {
	if !ports.Sealed(m.Text) {
		return nil
	}
	txt, err := s.openText(ctx, q, m.Tenant(), m.ID, m.Text)
	m.Text = txt
	return err
}

// DataKeyCount returns how many data keys the store holds, and how many of
// them the key-encryption key kekID did not wrap.
func (s *Store) DataKeyCount(ctx context.Context, kekID string) (total, other int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE kek_id <> ?) FROM data_keys`, kekID).Scan(&total, &other)
	return total, other, mapErr(err)
}
