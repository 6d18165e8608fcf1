package oauthserver

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultPasswordIterations is PBKDF2-HMAC-SHA256's work factor (OWASP's
// 2023 figure): about a quarter second per guess on one core, which with
// the per-IP and per-user attempt limits makes online guessing hopeless.
const DefaultPasswordIterations = 600_000

// MinPasswordLen is the shortest password `engram user passwd` accepts.
const MinPasswordLen = 10

// maxPasswordLen bounds the work one sign-in attempt can ask for.
const maxPasswordLen = 1024

// HashPassword returns the stored form of password:
// pbkdf2-sha256$<iterations>$<salt>$<key>, salt and key base64url.
func HashPassword(password string, iterations int) (string, error) {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return "", fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	}
	if len(password) > maxPasswordLen {
		return "", fmt.Errorf("password must be at most %d bytes", maxPasswordLen)
	}
	if iterations < 1 {
		iterations = DefaultPasswordIterations
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		return "", err
	}
	b := base64.RawURLEncoding
	return "pbkdf2-sha256$" + strconv.Itoa(iterations) + "$" + b.EncodeToString(salt) + "$" + b.EncodeToString(key), nil
}

// checkPassword reports whether password matches stored, in constant time.
func checkPassword(stored, password string) (bool, error) {
	if stored == "" || len(password) > maxPasswordLen {
		return false, nil
	}
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false, errors.New("oauthserver: unknown password hash format")
	}
	iter, err := strconv.Atoi(parts[1])
	b := base64.RawURLEncoding
	salt, err2 := b.DecodeString(parts[2])
	want, err3 := b.DecodeString(parts[3])
	if err := errors.Join(err, err2, err3); err != nil || iter < 1 {
		return false, fmt.Errorf("oauthserver: malformed password hash: %v", err)
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NewSignInCode returns a one-time sign-in code (80 random bits, grouped
// for reading aloud) and the hash to store.
func NewSignInCode() (code, hash string) {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b) // 16 characters
	code = s[:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:]
	return code, HashSecret(normalizeCode(code))
}

// normalizeCode accepts a code typed in lower case or without dashes.
func normalizeCode(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(s)))
}

// HashSecret is the stored form of a random secret: hex SHA-256. A secret
// of 80 bits or more needs no salt or slow hash.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// randomToken is a 256-bit random secret, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
