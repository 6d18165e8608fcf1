// Package keywrap holds the key-encryption keys (KEKs) that wrap Engram's
// per-user data keys (ports.KeyWrapper): a key file in the data directory
// (the embedded default, created 0600 on first use like the local signing
// key) or keys given in the environment. A KMS adapter implements the same
// three methods (docs/security.md).
//
// A KEK is 32 random bytes. Wrapping is AES-256-GCM with a random nonce and
// the DEK's org and user as associated data; the wrapped form is nonce ‖
// ciphertext ‖ tag. A KEK's id is "local-" and the first 16 hex digits of
// SHA-256 of the key: it names the key without revealing it.
package keywrap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/engram-memory/engram/ports"
)

// Ring is a set of KEKs: the first wraps, all unwrap (the others are
// previous keys kept until `engram keys rotate` has rewrapped every DEK).
type Ring struct {
	mu      sync.RWMutex
	current string
	keys    map[string]cipher.AEAD
	order   []string
	// reload, when set, re-reads the keys once when Unwrap meets an id it
	// does not hold (another process rotated the file); changed reports
	// whether the file changed since it was read, which Wrap checks so
	// that a new data key is never wrapped by a key a rotation dropped.
	reload  func() ([][]byte, error)
	changed func() bool
}

var _ ports.KeyWrapper = (*Ring)(nil)

// KeyID returns the id of a KEK.
func KeyID(kek []byte) string {
	sum := sha256.Sum256(kek)
	return "local-" + hex.EncodeToString(sum[:8])
}

// NewRing returns a ring of keys, the first current. Each must be 32 bytes.
func NewRing(keys [][]byte) (*Ring, error) {
	r := &Ring{}
	if err := r.set(keys); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Ring) set(keys [][]byte) error {
	if len(keys) == 0 {
		return errors.New("keywrap: no key-encryption key")
	}
	m := make(map[string]cipher.AEAD, len(keys))
	var order []string
	for i, k := range keys {
		if len(k) != 32 {
			return fmt.Errorf("keywrap: key-encryption key %d is %d bytes, want 32 (64 hex digits)", i+1, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return err
		}
		id := KeyID(k)
		if _, dup := m[id]; !dup {
			order = append(order, id)
		}
		m[id] = aead
	}
	r.mu.Lock()
	r.current, r.keys, r.order = KeyID(keys[0]), m, order
	r.mu.Unlock()
	return nil
}

// KeyID implements ports.KeyWrapper.
func (r *Ring) KeyID() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current
}

// KeyIDs lists every KEK's id, current first.
func (r *Ring) KeyIDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

// Wrap implements ports.KeyWrapper.
func (r *Ring) Wrap(_ context.Context, dek, aad []byte) ([]byte, error) {
	if r.changed != nil && r.changed() {
		keys, err := r.reload()
		if err != nil {
			return nil, err
		}
		if err := r.set(keys); err != nil {
			return nil, err
		}
	}
	r.mu.RLock()
	aead := r.keys[r.current]
	r.mu.RUnlock()
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(dek)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, dek, aad), nil
}

// Unwrap implements ports.KeyWrapper.
func (r *Ring) Unwrap(_ context.Context, keyID string, wrapped, aad []byte) ([]byte, error) {
	r.mu.RLock()
	aead, ok := r.keys[keyID]
	reload := r.reload
	r.mu.RUnlock()
	if !ok && reload != nil {
		if keys, err := reload(); err == nil && r.set(keys) == nil {
			r.mu.RLock()
			aead, ok = r.keys[keyID]
			r.mu.RUnlock()
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: unknown key-encryption key %q", ports.ErrKeyUnwrap, keyID)
	}
	ns := aead.NonceSize()
	if len(wrapped) < ns+aead.Overhead() {
		return nil, fmt.Errorf("%w: wrapped key too short", ports.ErrKeyUnwrap)
	}
	dek, err := aead.Open(nil, wrapped[:ns], wrapped[ns:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ports.ErrKeyUnwrap, err)
	}
	return dek, nil
}

// ParseKeys reads keys written as hex, separated by commas, spaces or
// newlines; lines beginning with # are comments.
func ParseKeys(s string) ([][]byte, error) {
	var keys [][]byte
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			k, err := hex.DecodeString(f)
			if err != nil || len(k) != 32 {
				return nil, errors.New("keywrap: a key-encryption key must be 64 hex digits")
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// FromEnv is the ring of ENGRAM_KEK (current) and ENGRAM_KEK_PREVIOUS
// (comma-separated, kept for unwrapping until a rotation has run).
func FromEnv(current, previous string) (*Ring, error) {
	cur, err := ParseKeys(current)
	if err != nil {
		return nil, fmt.Errorf("ENGRAM_KEK: %w", err)
	}
	if len(cur) != 1 {
		return nil, errors.New("ENGRAM_KEK: must be exactly one key of 64 hex digits")
	}
	prev, err := ParseKeys(previous)
	if err != nil {
		return nil, fmt.Errorf("ENGRAM_KEK_PREVIOUS: %w", err)
	}
	return NewRing(append(cur, prev...))
}

// FileName is the key file in the data directory.
const FileName = "data-keys.kek"

// OpenFile reads the key file at path (one hex key a line, current first),
// creating it with a fresh key (mode 0600; two processes starting at once
// agree on one) when it does not exist.
func OpenFile(path string) (*Ring, error) {
	keys, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("keywrap: %w", err)
		}
		// Written in full to a temporary file, then linked into place:
		// link fails when the name exists, so of two processes starting at
		// once one key wins, and no reader ever sees a half-written file.
		if err := createOnce(path, []byte(fileHeader+hex.EncodeToString(k)+"\n")); err != nil {
			return nil, err
		}
		keys, err = readFile(path)
	}
	if err != nil {
		return nil, err
	}
	r, err := NewRing(keys)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var (
		mu   sync.Mutex
		seen = modTime(path)
	)
	r.reload = func() ([][]byte, error) {
		mu.Lock()
		seen = modTime(path)
		mu.Unlock()
		return readFile(path)
	}
	r.changed = func() bool {
		mu.Lock()
		defer mu.Unlock()
		return modTime(path) != seen
	}
	return r, nil
}

func createOnce(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kek-new-*")
	if err != nil {
		return fmt.Errorf("keywrap: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(content)
	if err := tmp.Chmod(0o600); werr == nil {
		werr = err
	}
	if err := tmp.Sync(); werr == nil {
		werr = err
	}
	if err := tmp.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return fmt.Errorf("keywrap: write %s: %w", path, werr)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("keywrap: create %s: %w", path, err)
	}
	return nil
}

func modTime(path string) string {
	info, err := os.Stat(path)
	if err != nil {
		return ""
	}
	// A rotation replaces the file by rename (a new inode), possibly within
	// the file system's timestamp granularity and at the same size, so the
	// inode is part of the signature: mtime and size alone missed one.
	sig := info.ModTime().String() + "/" + fmt.Sprint(info.Size())
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		sig += "/" + fmt.Sprint(st.Ino)
	}
	return sig
}

const fileHeader = "# Engram key-encryption key(s): the first wraps, the others only unwrap.\n" +
	"# Losing this file loses every encrypted memory; keep a copy with your secrets, not with your backups.\n"

func readFile(path string) ([][]byte, error) {
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("keywrap: %s has mode %s and cannot be made 0600: %w", path, info.Mode().Perm(), err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys, err := ParseKeys(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("keywrap: %s holds no key", path)
	}
	return keys, nil
}

// WriteFile replaces the key file atomically (temporary file, fsync,
// rename) with keys, the first current.
func WriteFile(path string, keys [][]byte) error {
	var b bytes.Buffer
	b.WriteString(fileHeader)
	for _, k := range keys {
		b.WriteString(hex.EncodeToString(k) + "\n")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kek-*")
	if err != nil {
		return fmt.Errorf("keywrap: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("keywrap: %w", err)
	}
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("keywrap: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("keywrap: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keywrap: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// ReadFile returns the keys of a key file, current first.
func ReadFile(path string) ([][]byte, error) { return readFile(path) }

// NewKey returns 32 random bytes.
func NewKey() ([]byte, error) {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	return k, err
}
