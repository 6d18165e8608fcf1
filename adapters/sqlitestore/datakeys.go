package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	cache   ports.DataKeyCache
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
	if dk := s.keys.cache.Get(t); dk != nil {
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
		s.keys.cache.Put(t, dk)
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

// SealsAtRest reports whether new memory text is sealed (encryption on):
// its content hash is then keyed (contentHash).
func (s *Store) SealsAtRest() bool { return s.keys.encrypt }

// contentHash is the content hash stored with a memory's text: keyed with
// dk (ports.DataKey.Hash) when the text is sealed with it, so that it
// confirms no guessed text without the key and dies with it; the plain
// domain.ContentHash when encryption is off. Exact-duplicate detection
// compares hashes, so it finds duplicates among rows hashed alike.
func contentHash(dk *ports.DataKey, text string) string {
	if dk != nil {
		return dk.Hash(text)
	}
	return domain.ContentHash(text)
}

// sealText is the stored form of a memory's text: sealed with dk, or as is
// when encryption is off.
func sealText(dk *ports.DataKey, id domain.MemoryID, text string) (string, error) {
	return sealField(dk, string(id), "text", text)
}

// sealField is the stored form of a sealed column's value (field names it,
// row is the row's id): sealed with dk, or as is when encryption is off. A
// value that looks sealed is never stored as plaintext (it would be read
// back as a sealed value).
func sealField(dk *ports.DataKey, row, field, value string) (string, error) {
	if dk != nil {
		return dk.Seal(row, field, value), nil
	}
	if ports.Sealed(value) {
		return "", domain.Invalid(field, "must not begin with the reserved prefix of sealed values")
	}
	return value, nil
}

// errNoKEK is a sealed value read by a store that holds no key-encryption
// key.
var errNoKEK = errors.New("the value is encrypted and no key-encryption key is configured (ENGRAM_KEK or the data directory's data-keys.kek)")

// openText reads a stored text of t's memory id.
func (s *Store) openText(ctx context.Context, q rowQuerier, t domain.Tenant, id domain.MemoryID, stored string) (string, error) {
	return s.openField(ctx, q, t, "memory", string(id), "text", stored)
}

// openField reads a stored value of a sealed column (field) of t's row
// (what names the row's kind in errors).
func (s *Store) openField(ctx context.Context, q rowQuerier, t domain.Tenant, what, row, field, stored string) (string, error) {
	if !ports.Sealed(stored) {
		return stored, nil
	}
	if s.keys.w == nil {
		return "", fmt.Errorf("%s %s is encrypted and no key-encryption key is configured (ENGRAM_KEK or the data directory's data-keys.kek)", what, row)
	}
	dk, err := s.findKey(ctx, q, t)
	if err != nil {
		return "", err
	}
	if dk == nil {
		return "", fmt.Errorf("%s %s: %w", what, row, ports.ErrKeyDestroyed)
	}
	return dk.Open(row, field, stored)
}

// openMemory replaces m's stored text and metadata values with the
// plaintext.
func (s *Store) openMemory(ctx context.Context, q rowQuerier, m *domain.Memory) error {
	if ports.Sealed(m.Text) {
		txt, err := s.openText(ctx, q, m.Tenant(), m.ID, m.Text)
		if err != nil {
			return err
		}
		m.Text = txt
	}
	return s.openMetadata(ctx, q, m.Tenant(), m.ID, &m.Metadata)
}

// openMetadata replaces the sealed values of t's memory id's metadata
// with the plaintext.
func (s *Store) openMetadata(ctx context.Context, q rowQuerier, t domain.Tenant, id domain.MemoryID, md *domain.Metadata) error {
	if !ports.MetadataSealed(*md) {
		return nil
	}
	if s.keys.w == nil {
		return fmt.Errorf("memory %s: metadata %w", id, errNoKEK)
	}
	dk, err := s.findKey(ctx, q, t)
	if err != nil {
		return err
	}
	*md, err = ports.OpenMetadata(dk, string(id), *md)
	return err
}

// sealMemory returns m as stored: text and metadata values sealed with dk
// (as they are when dk is nil).
func sealMemory(dk *ports.DataKey, m domain.Memory) (domain.Memory, error) {
	var err error
	if m.Text, err = sealText(dk, m.ID, m.Text); err != nil {
		return m, err
	}
	m.Metadata, err = ports.SealMetadata(dk, string(m.ID), m.Metadata)
	return m, err
}

// DataKeyCount returns how many data keys the store holds, and how many of
// them the key-encryption key kekID did not wrap.
func (s *Store) DataKeyCount(ctx context.Context, kekID string) (total, other int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE kek_id <> ?) FROM data_keys`, kekID).Scan(&total, &other)
	return total, other, mapErr(err)
}

var _ ports.DataKeyStore = (*Store)(nil)

// DataKeys implements ports.DataKeyStore.
func (s *Store) DataKeys(ctx context.Context, fn func(ports.WrappedKey) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT org_id, user_id, kek_id, wrapped, created_at FROM data_keys ORDER BY org_id, user_id`)
	if err != nil {
		return fmt.Errorf("sqlitestore: data keys: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k         ports.WrappedKey
			org, user string
			at        int64
		)
		if err := rows.Scan(&org, &user, &k.KEKID, &k.Wrapped, &at); err != nil {
			return fmt.Errorf("sqlitestore: data keys: %w", mapErr(err))
		}
		k.OrgID, k.UserID, k.CreatedAt = domain.OrgID(org), domain.UserID(user), fromNanos(at)
		if err := fn(k); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// PutDataKeys implements ports.DataKeyStore.
func (s *Store) PutDataKeys(ctx context.Context, keys []ports.WrappedKey) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, k := range keys {
			if err := (domain.Tenant{OrgID: k.OrgID, UserID: k.UserID}).Validate(); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO data_keys (org_id, user_id, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?, ?)`,
				string(k.OrgID), string(k.UserID), k.KEKID, k.Wrapped, k.CreatedAt.UnixNano())
			if err != nil {
				return mapErr(err)
			}
			c, _ := res.RowsAffected()
			n += int(c)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: put data keys: %w", err)
	}
	return n, nil
}

// RewrapDataKeys implements ports.DataKeyStore in one write transaction.
func (s *Store) RewrapDataKeys(ctx context.Context, w ports.KeyWrapper) (rewrapped, total int, err error) {
	var keys []ports.WrappedKey
	if err := s.DataKeys(ctx, func(k ports.WrappedKey) error { keys = append(keys, k); return nil }); err != nil {
		return 0, 0, err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		rewrapped = 0
		for _, k := range keys {
			if k.KEKID == w.KeyID() {
				continue
			}
			nk, err := ports.Rewrap(ctx, w, k)
			if err != nil {
				return err
			}
			// Only the row as read: a key erased meanwhile stays erased.
			res, err := tx.ExecContext(ctx, `UPDATE data_keys SET kek_id = ?, wrapped = ? WHERE org_id = ? AND user_id = ? AND kek_id = ?`,
				nk.KEKID, nk.Wrapped, string(k.OrgID), string(k.UserID), k.KEKID)
			if err != nil {
				return mapErr(err)
			}
			c, _ := res.RowsAffected()
			rewrapped += int(c)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sqlitestore: rewrap data keys: %w", err)
	}
	return rewrapped, len(keys), nil
}

var _ ports.SessionKeys = (*Store)(nil)

// SealingKey implements ports.SessionKeys: the key t's session events are
// sealed with, created when t has none; nil when encryption is off.
func (s *Store) SealingKey(ctx context.Context, t domain.Tenant) (*ports.DataKey, error) {
	return s.sealingKey(ctx, t)
}

// OpeningKey implements ports.SessionKeys: t's key read through the read
// pool (and cached), nil when t has none.
func (s *Store) OpeningKey(ctx context.Context, t domain.Tenant) (*ports.DataKey, error) {
	if s.keys.w == nil {
		return nil, errNoKEK
	}
	return s.findKey(ctx, s.r, t)
}

// ForgetDataKeys drops the subject's keys from this process's cache
// (ports.DataKeyForgetter): its erasure ran elsewhere.
func (s *Store) ForgetDataKeys(subj domain.Subject) { s.keys.cache.Forget(subj) }
