package ports

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/engram-memory/engram/domain"
)

// KeyWrapper holds the key-encryption key (KEK) that wraps every per-user
// data key (DEK). Stores keep only wrapped DEKs; the KEK lives outside them
// (a file beside the data, an environment variable, or a KMS), so a copy of
// the store or of an archive without the KEK reads nothing, and a DEK
// deleted from the store (erasure) is gone from every copy that relies on
// it. docs/security.md describes the adapters and the KMS shape.
//
// KeyID names the KEK that Wrap uses now; it is stored beside each wrapped
// DEK so that Unwrap can find the right KEK after a rotation.
//
// Wrap encrypts dek, binding aad (the DEK's org and user): a wrapped DEK
// copied to another user's row does not unwrap. Unwrap reverses Wrap for the
// KEK named keyID; a wrong KEK, an unknown keyID, another aad or a changed
// byte answers an error wrapping ErrKeyUnwrap. An unreachable KMS wraps
// domain.ErrUnavailable. Both are safe for concurrent use.
type KeyWrapper interface {
	KeyID() string
	Wrap(ctx context.Context, dek, aad []byte) ([]byte, error)
	Unwrap(ctx context.Context, keyID string, wrapped, aad []byte) ([]byte, error)
}

// ErrKeyUnwrap is a wrapped data key that this KeyWrapper cannot open.
var ErrKeyUnwrap = errors.New("data key does not unwrap with this key-encryption key")

// ErrKeyDestroyed is a sealed value whose data key is gone: its subject was
// erased (crypto-shredded). The value can never be read again.
var ErrKeyDestroyed = fmt.Errorf("%w: the data key of this value was destroyed (subject erased)", domain.ErrNotFound)

// SealedPrefix begins every sealed value; the rest is unpadded URL-safe
// base64 of nonce (12 bytes) ‖ AES-256-GCM ciphertext and tag. ESC makes it
// a prefix no text a person types begins with; stores seal any text that
// begins with it even when encryption is off, so a stored value beginning
// with it is always a sealed one.
const SealedPrefix = "\x1bengram:v1:"

// Sealed reports whether a stored value is sealed (else it is plaintext,
// written while encryption was off or before it existed).
func Sealed(s string) bool { return strings.HasPrefix(s, SealedPrefix) }

// WrapAAD is the associated data a DEK is wrapped with.
func WrapAAD(t domain.Tenant) []byte {
	return []byte("engram-dek\x00" + string(t.OrgID) + "\x00" + string(t.UserID))
}

// DataKey is one user's unwrapped data key, ready to seal and open that
// user's values. It is safe for concurrent use.
type DataKey struct {
	t    domain.Tenant
	aead cipher.AEAD
	mac  []byte // content-hash key, derived from the DEK
}

// NewDataKey makes a fresh random DEK for t and wraps it with w; the caller
// stores (w.KeyID(), wrapped).
func NewDataKey(ctx context.Context, w KeyWrapper, t domain.Tenant) (key *DataKey, kekID string, wrapped []byte, err error) {
	dek := make([]byte, 32)
	if _, err := rand.Read(dek); err != nil {
		return nil, "", nil, err
	}
	kekID = w.KeyID()
	wrapped, err = w.Wrap(ctx, dek, WrapAAD(t))
	if err != nil {
		return nil, "", nil, fmt.Errorf("wrap data key: %w", err)
	}
	key, err = dataKey(t, dek)
	return key, kekID, wrapped, err
}

// OpenDataKey unwraps a stored DEK of t.
func OpenDataKey(ctx context.Context, w KeyWrapper, t domain.Tenant, kekID string, wrapped []byte) (*DataKey, error) {
	dek, err := w.Unwrap(ctx, kekID, wrapped, WrapAAD(t))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of %s/%s: %w", t.OrgID, t.UserID, err)
	}
	return dataKey(t, dek)
}

func dataKey(t domain.Tenant, dek []byte) (*DataKey, error) {
	if len(dek) != 32 {
		return nil, fmt.Errorf("%w: data key is %d bytes, want 32", ErrKeyUnwrap, len(dek))
	}
	block, err := aes.NewCipher(dek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, dek)
	m.Write([]byte("engram content hash"))
	return &DataKey{t: t, aead: aead, mac: m.Sum(nil)}, nil
}

// aad binds a sealed value to its tenant, row and field, so that ciphertext
// moved to another row, field or user does not open.
func (k *DataKey) aad(row, field string) []byte {
	return []byte("engram-v1\x00" + string(k.t.OrgID) + "\x00" + string(k.t.UserID) + "\x00" + row + "\x00" + field)
}

// Seal encrypts plaintext as the value of field in row (a memory id, a
// query-log id…) with a random nonce.
func (k *DataKey) Seal(row, field, plaintext string) string {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("engram: no randomness for a nonce: " + err.Error()) // crypto/rand never fails on supported systems
	}
	ct := k.aead.Seal(nonce, nonce, []byte(plaintext), k.aad(row, field))
	return SealedPrefix + base64.RawURLEncoding.EncodeToString(ct)
}

// Open decrypts a value Seal made for the same row and field; plaintext
// (not Sealed) is returned as is.
func (k *DataKey) Open(row, field, stored string) (string, error) {
	if !Sealed(stored) {
		return stored, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(stored[len(SealedPrefix):])
	ns := k.aead.NonceSize()
	if err != nil || len(raw) < ns+k.aead.Overhead() {
		return "", fmt.Errorf("sealed %s of %s is malformed", field, row)
	}
	pt, err := k.aead.Open(nil, raw[:ns], raw[ns:], k.aad(row, field))
	if err != nil {
		return "", fmt.Errorf("sealed %s of %s does not open with its user's data key: %w", field, row, err)
	}
	return string(pt), nil
}

// Hash is the keyed content hash (hex HMAC-SHA-256 under a key derived from
// the DEK) that exact-duplicate detection compares in place of the text:
// equal texts of one user hash equal, and without the DEK the hash confirms
// no guess. It has the length and alphabet of domain.ContentHash.
func (k *DataKey) Hash(text string) string {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(text))
	return hex.EncodeToString(m.Sum(nil))
}

// WrappedKey is one stored data key: a user's DEK wrapped by the KEK named
// KEKID. It opens nothing without that KEK.
type WrappedKey struct {
	OrgID     domain.OrgID  `json:"org_id"`
	UserID    domain.UserID `json:"user_id"`
	KEKID     string        `json:"kek_id"`
	Wrapped   []byte        `json:"wrapped"`
	CreatedAt time.Time     `json:"created_at"`
}

// DataKeyStore is the operator's view of the stored data keys, across orgs:
// `engram keys export|import|rotate`. Archives never carry data keys (an
// archive holding the key of a subject erased later could still be opened);
// a restore into an empty store loads them from `engram keys export`'s file,
// taken after the erasures that must hold.
//
// DataKeys calls fn for every stored key. PutDataKeys stores keys a store
// does not hold yet and keeps the ones it holds (a user's key never
// changes: replacing it would make their sealed values unreadable); it
// returns how many it stored. RewrapDataKeys rewraps every key that w's
// current KEK did not wrap (w must still unwrap them: the previous KEK is
// in its ring), without touching sealed values, each in the transaction
// that reads it; it returns how many it rewrapped and how many keys there
// are. Backend failures wrap domain.ErrUnavailable.
type DataKeyStore interface {
	DataKeys(ctx context.Context, fn func(WrappedKey) error) error
	PutDataKeys(ctx context.Context, keys []WrappedKey) (int, error)
	RewrapDataKeys(ctx context.Context, w KeyWrapper) (rewrapped, total int, err error)
}

// Rewrap rewraps one stored key under w's current KEK.
func Rewrap(ctx context.Context, w KeyWrapper, k WrappedKey) (WrappedKey, error) {
	t := domain.Tenant{OrgID: k.OrgID, UserID: k.UserID}
	dek, err := w.Unwrap(ctx, k.KEKID, k.Wrapped, WrapAAD(t))
	if err != nil {
		return WrappedKey{}, fmt.Errorf("data key of %s/%s: %w", k.OrgID, k.UserID, err)
	}
	wrapped, err := w.Wrap(ctx, dek, WrapAAD(t))
	if err != nil {
		return WrappedKey{}, err
	}
	k.KEKID, k.Wrapped = w.KeyID(), wrapped
	return k, nil
}
