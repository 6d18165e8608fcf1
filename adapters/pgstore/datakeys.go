package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// keyring caches unwrapped data keys by tenant. Keys are only ever created
// in a transaction of their own (sealingKey), so every key a statement reads
// is committed and may be cached. Erasure evicts the subject's keys.
type keyring struct {
	w       ports.KeyWrapper
	encrypt bool
	cache   ports.DataKeyCache
}

// getter is a transaction or a read connection whose org setting is set.
type getter interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
}

// errNoKEK is a sealed value read by a store that holds no key-encryption
// key.
var errNoKEK = errors.New("the value is encrypted and no key-encryption key is configured (ENGRAM_KEK or the data directory's data-keys.kek)")

// findKey returns t's data key read in tx (whose org setting is t's), or
// nil when t has none or no key-encryption key is configured.
func (s *Store) findKey(ctx context.Context, tx getter, t domain.Tenant) (*ports.DataKey, error) {
	if s.keys.w == nil {
		return nil, nil
	}
	if dk := s.keys.cache.Get(t); dk != nil {
		return dk, nil
	}
	var row struct {
		KEK     string `db:"kek_id"`
		Wrapped []byte `db:"wrapped"`
	}
	err := tx.GetContext(ctx, &row, `SELECT kek_id, wrapped FROM data_keys WHERE org_id = $1 AND user_id = $2`, t.OrgID, t.UserID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dk, err := ports.OpenDataKey(ctx, s.keys.w, t, row.KEK, row.Wrapped)
	if err != nil {
		return nil, err
	}
	s.keys.cache.Put(t, dk)
	return dk, nil
}

// sealingKey returns the key new values of t are sealed with, creating and
// committing it (in a transaction of its own) when t has none; nil when
// encryption is off.
func (s *Store) sealingKey(ctx context.Context, t domain.Tenant) (*ports.DataKey, error) {
	if !s.keys.encrypt {
		return nil, nil
	}
	if dk := s.keys.cache.Get(t); dk != nil {
		return dk, nil
	}
	var dk *ports.DataKey
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		var err error
		if dk, err = s.findKey(ctx, tx, t); dk != nil || err != nil {
			return err
		}
		_, kek, wrapped, err := ports.NewDataKey(ctx, s.keys.w, t)
		if err != nil {
			return err
		}
		// DO NOTHING: a concurrent writer may have made one first; both
		// then use the one stored.
		if _, err := tx.ExecContext(ctx, `INSERT INTO data_keys (org_id, user_id, kek_id, wrapped, created_at)
			VALUES ($1, $2, $3, $4, now()) ON CONFLICT (org_id, user_id) DO NOTHING`, t.OrgID, t.UserID, kek, wrapped); err != nil {
			return err
		}
		return nil
	})
	if err != nil || dk != nil {
		return dk, err
	}
	err = s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		var err error
		dk, err = s.findKey(ctx, tx, t)
		return err
	})
	if err == nil && dk == nil {
		err = ports.ErrKeyDestroyed // erased between the insert and the read
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

// sealContent returns m's stored forms: text and metadata values sealed
// with dk (as they are when dk is nil), metadata as JSON text and
// categories as a text[] literal.
func sealContent(dk *ports.DataKey, m domain.Memory) (text, md, cats string, err error) {
	if text, err = sealText(dk, m.ID, m.Text); err != nil {
		return "", "", "", err
	}
	if m.Metadata, err = ports.SealMetadata(dk, string(m.ID), m.Metadata); err != nil {
		return "", "", "", err
	}
	md, cats, err = encodeContent(m)
	return text, md, cats, err
}

// openText reads a stored text of t's memory id.
func (s *Store) openText(ctx context.Context, tx getter, t domain.Tenant, id domain.MemoryID, stored string) (string, error) {
	return s.openField(ctx, tx, t, "memory", string(id), "text", stored)
}

// openField reads a stored value of a sealed column (field) of t's row
// (what names the row's kind in errors).
func (s *Store) openField(ctx context.Context, tx getter, t domain.Tenant, what, row, field, stored string) (string, error) {
	if !ports.Sealed(stored) {
		return stored, nil
	}
	if s.keys.w == nil {
		return "", fmt.Errorf("%s %s is encrypted and no key-encryption key is configured (ENGRAM_KEK or the data directory's data-keys.kek)", what, row)
	}
	dk, err := s.findKey(ctx, tx, t)
	if err != nil {
		return "", err
	}
	if dk == nil {
		return "", fmt.Errorf("%s %s: %w", what, row, ports.ErrKeyDestroyed)
	}
	return dk.Open(row, field, stored)
}

// openMemories replaces each memory's stored text and metadata values with
// the plaintext.
func (s *Store) openMemories(ctx context.Context, tx getter, ms []domain.Memory) error {
	for i := range ms {
		if ports.Sealed(ms[i].Text) {
			txt, err := s.openText(ctx, tx, ms[i].Tenant(), ms[i].ID, ms[i].Text)
			if err != nil {
				return err
			}
			ms[i].Text = txt
		}
		if err := s.openMetadata(ctx, tx, ms[i].Tenant(), ms[i].ID, &ms[i].Metadata); err != nil {
			return err
		}
	}
	return nil
}

// openMetadata replaces the sealed values of t's memory id's metadata with
// the plaintext.
func (s *Store) openMetadata(ctx context.Context, tx getter, t domain.Tenant, id domain.MemoryID, md *domain.Metadata) error {
	if !ports.MetadataSealed(*md) {
		return nil
	}
	if s.keys.w == nil {
		return fmt.Errorf("metadata of memory %s is encrypted and no key-encryption key is configured (ENGRAM_KEK or the data directory's data-keys.kek)", id)
	}
	dk, err := s.findKey(ctx, tx, t)
	if err != nil {
		return err
	}
	*md, err = ports.OpenMetadata(dk, string(id), *md)
	return err
}

func (s *Store) openMemory(ctx context.Context, tx getter, m *domain.Memory) error {
	one := []domain.Memory{*m}
	if err := s.openMemories(ctx, tx, one); err != nil {
		return err
	}
	*m = one[0]
	return nil
}

var _ ports.DataKeyStore = (*Store)(nil)

type wrappedRow struct {
	OrgID     string    `db:"org_id"`
	UserID    string    `db:"user_id"`
	KEKID     string    `db:"kek_id"`
	Wrapped   []byte    `db:"wrapped"`
	CreatedAt time.Time `db:"created_at"`
}

// DataKeys implements ports.DataKeyStore, org by org (memory_orgs lists
// every org that ever held a memory, so every org with a data key).
func (s *Store) DataKeys(ctx context.Context, fn func(ports.WrappedKey) error) error {
	orgs, err := s.Orgs(ctx)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		var rows []wrappedRow
		if err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
			return tx.SelectContext(ctx, &rows, `SELECT org_id, user_id, kek_id, wrapped, created_at FROM data_keys WHERE org_id = $1 ORDER BY user_id`, org)
		}); err != nil {
			return fmt.Errorf("pgstore: data keys: %w", mapErr(err))
		}
		for _, r := range rows {
			if err := fn(ports.WrappedKey{OrgID: domain.OrgID(r.OrgID), UserID: domain.UserID(r.UserID), KEKID: r.KEKID, Wrapped: r.Wrapped, CreatedAt: r.CreatedAt.UTC()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// PutDataKeys implements ports.DataKeyStore.
func (s *Store) PutDataKeys(ctx context.Context, keys []ports.WrappedKey) (int, error) {
	n := 0
	for _, k := range keys {
		if err := (domain.Tenant{OrgID: k.OrgID, UserID: k.UserID}).Validate(); err != nil {
			return n, fmt.Errorf("pgstore: put data keys: %w", err)
		}
		if err := s.inTx(ctx, k.OrgID, false, func(tx *sqlx.Tx) error {
			// A trigger notes the org in memory_orgs (migration 0202).
			res, err := tx.ExecContext(ctx, `INSERT INTO data_keys (org_id, user_id, kek_id, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (org_id, user_id) DO NOTHING`, k.OrgID, k.UserID, k.KEKID, k.Wrapped, k.CreatedAt)
			if err != nil {
				return err
			}
			c, _ := res.RowsAffected()
			n += int(c)
			return nil
		}); err != nil {
			return n, fmt.Errorf("pgstore: put data keys: %w", mapErr(err))
		}
	}
	return n, nil
}

// RewrapDataKeys implements ports.DataKeyStore, one transaction per org.
func (s *Store) RewrapDataKeys(ctx context.Context, w ports.KeyWrapper) (rewrapped, total int, err error) {
	var keys []ports.WrappedKey
	if err := s.DataKeys(ctx, func(k ports.WrappedKey) error { keys = append(keys, k); return nil }); err != nil {
		return 0, 0, err
	}
	for _, k := range keys {
		if k.KEKID == w.KeyID() {
			continue
		}
		nk, err := ports.Rewrap(ctx, w, k)
		if err != nil {
			return rewrapped, len(keys), err
		}
		if err := s.inTx(ctx, k.OrgID, false, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE data_keys SET kek_id = $3, wrapped = $4 WHERE org_id = $1 AND user_id = $2 AND kek_id = $5`,
				k.OrgID, k.UserID, nk.KEKID, nk.Wrapped, k.KEKID)
			if err != nil {
				return err
			}
			c, _ := res.RowsAffected()
			rewrapped += int(c)
			return nil
		}); err != nil {
			return rewrapped, len(keys), fmt.Errorf("pgstore: rewrap data keys: %w", mapErr(err))
		}
	}
	return rewrapped, len(keys), nil
}

var _ ports.SessionKeys = (*Store)(nil)

// SealingKey implements ports.SessionKeys: the key t's session events are
// sealed with, created when t has none; nil when encryption is off.
func (s *Store) SealingKey(ctx context.Context, t domain.Tenant) (*ports.DataKey, error) {
	return s.sealingKey(ctx, t)
}

// OpeningKey implements ports.SessionKeys: t's key (cached once read), nil
// when t has none.
func (s *Store) OpeningKey(ctx context.Context, t domain.Tenant) (*ports.DataKey, error) {
	if s.keys.w == nil {
		return nil, errNoKEK
	}
	if dk := s.keys.cache.Get(t); dk != nil {
		return dk, nil
	}
	var dk *ports.DataKey
	err := s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		var err error
		dk, err = s.findKey(ctx, tx, t)
		return err
	})
	return dk, err
}

// ForgetDataKeys drops the subject's keys from this process's cache
// (ports.DataKeyForgetter): its erasure ran elsewhere.
func (s *Store) ForgetDataKeys(subj domain.Subject) { s.keys.cache.Forget(subj) }
