package jwtauth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/golang-jwt/jwt/v5"
)

// LocalKeyFile is the signing key's file name inside the data directory.
const LocalKeyFile = "auth-signing-key.pem"

// LocalKey is the zero-config signing key: an Ed25519 key created on first
// start in the data directory, readable only by its owner. Whoever can read
// the file can mint tokens for any user, which is why the daemon refuses to
// rely on it when listening beyond loopback (see docs/security.md).
type LocalKey struct {
	priv ed25519.PrivateKey
	kid  string
	path string
}

// LoadOrCreateLocalKey loads the key from dataDir, creating the directory and
// the key (mode 0600) when absent; created reports a new key. Two processes
// starting at once end up with the same key: the file is published with a
// hard link, which fails rather than overwrites. A key file readable by group
// or others is refused, as ssh does.
func LoadOrCreateLocalKey(dataDir string) (*LocalKey, bool, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("jwtauth: create data dir: %w", err)
	}
	path := filepath.Join(dataDir, LocalKeyFile)
	if k, err := loadLocalKey(path); !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("jwtauth: generate local key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, false, fmt.Errorf("jwtauth: encode local key: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, LocalKeyFile+".tmp*")
	if err != nil {
		return nil, false, fmt.Errorf("jwtauth: write local key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return nil, false, fmt.Errorf("jwtauth: write local key: %w", err)
	}
	werr := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return nil, false, fmt.Errorf("jwtauth: write local key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			k, lerr := loadLocalKey(path)
			return k, false, lerr
		}
		return nil, false, fmt.Errorf("jwtauth: publish local key: %w", err)
	}
	k, err := newLocalKey(priv, path)
	return k, err == nil, err
}

func loadLocalKey(path string) (*LocalKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("jwtauth: local key %s has mode %s; run chmod 600 on it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: read local key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("jwtauth: local key %s is not a PEM private key", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: parse local key %s: %w", path, err)
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("jwtauth: local key %s is %T, want Ed25519", path, parsed)
	}
	return newLocalKey(priv, path)
}

func newLocalKey(priv ed25519.PrivateKey, path string) (*LocalKey, error) {
	kid, err := Thumbprint(priv.Public())
	if err != nil {
		return nil, err
	}
	return &LocalKey{priv: priv, kid: kid, path: path}, nil
}

// Path is the key file, for the first-start message.
func (k *LocalKey) Path() string { return k.path }

// KID is the key id put in minted tokens: the key's RFC 7638 thumbprint.
func (k *LocalKey) KID() string { return k.kid }

// Public is the verification key.
func (k *LocalKey) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// NewLocal returns a verifier that trusts only key. Issuer and Audience
// default to LocalIssuer and DefaultAudience, matching Mint's defaults.
func NewLocal(key *LocalKey, cfg Config) (*Verifier, error) {
	if key == nil {
		return nil, errors.New("jwtauth: NewLocal: nil key")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = LocalIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	cfg.RequireATJWT = true // Mint sets it; a local token without it is forged or foreign
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newVerifier(cfg, localSource{kid: key.kid, pub: key.Public()}), nil
}

// localSource trusts exactly one key.
type localSource struct {
	kid string
	pub ed25519.PublicKey
}

func (l localSource) key(_ context.Context, t *jwt.Token) (any, error) {
	if kid, _ := t.Header["kid"].(string); kid != l.kid {
		return nil, errUnknownKID
	}
	return l.pub, nil
}

func (localSource) ready(context.Context) error { return nil }
func (localSource) close()                      {}
