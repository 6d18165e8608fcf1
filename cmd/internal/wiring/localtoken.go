package wiring

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
)

// LocalUser is the user the zero-config token is minted for.
const LocalUser = "local"

// LocalTokenTTL is the lifetime of the zero-config token. The local key is
// only trusted on loopback, and a token that lasts a month saves pasting a
// new one into every MCP client each day.
const LocalTokenTTL = 30 * 24 * time.Hour

// LocalTokenPath is where engramd keeps the zero-config token.
func LocalTokenPath(dataDir string) string { return filepath.Join(dataDir, "local-token") }

// MintLocal mints a token from the local key with the audience this
// configuration's verifier expects.
func (s *System) MintLocal(c jwtauth.Claims) (string, error) {
	if s.LocalKey == nil {
		return "", errors.New("tokens can only be minted in zero-config mode (no ENGRAM_AUTH_JWKS_URL)")
	}
	c.Audience = s.Config.Audience
	c.Issuer = s.Config.Issuer
	return s.LocalKey.Mint(c)
}

// EnsureLocalToken returns the zero-config token for the local user, minting
// and saving a fresh one (0600) when none is saved, it no longer verifies
// against this key and audience, or it expires within a day. fresh reports
// whether it minted one.
func (s *System) EnsureLocalToken() (token, path string, fresh bool, err error) {
	if err := checkDataDir(s.Config.DataDir); err != nil {
		return "", "", false, err
	}
	path = LocalTokenPath(s.Config.DataDir)
	if raw, err := os.ReadFile(path); err == nil {
		tok := strings.TrimSpace(string(raw))
		if s.localTokenUsable(tok) {
			// Enforced on every start: a copy or a restore may have left
			// the token readable by others.
			if err := privateFile(path); err != nil {
				return "", "", false, err
			}
			return tok, path, false, nil
		}
	}
	tok, err := s.MintLocal(jwtauth.Claims{
		Subject: LocalUser, OrgID: jwtauth.LocalOrg, Scopes: domain.LocalOwnerScopes,
		ClientID: "", TTL: LocalTokenTTL,
	})
	if err != nil {
		return "", "", false, err
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", "", false, fmt.Errorf("save local token: %w", err)
	}
	// WriteFile keeps the mode of a file that already existed.
	if err := privateFile(path); err != nil {
		return "", "", false, err
	}
	return tok, path, true, nil
}

// privateFile makes path readable by its owner only.
func privateFile(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("local token: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("local token %s has mode %s and cannot be made 0600: %w", path, info.Mode().Perm(), err)
		}
	}
	return nil
}

// checkDataDir refuses a data directory others may write to: whoever can
// write there can replace the local signing key or the token. That is
// anyone with group or world write permission, and the directory's owner
// when it is not the user engramd runs as (the owner can chmod it at will).
func checkDataDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("ENGRAM_DATA_DIR: %w", err)
	}
	if owner, ok := fileOwner(info); ok && owner != os.Geteuid() {
		return fmt.Errorf("ENGRAM_DATA_DIR %s is owned by uid %d, not by uid %d that engramd runs as: that user can replace the local signing key; run chown %d on it, or use a directory of your own", dir, owner, os.Geteuid(), os.Geteuid())
	}
	if info.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("ENGRAM_DATA_DIR %s has mode %s: others can write the local signing key there; run chmod 700 on it", dir, info.Mode().Perm())
	}
	return nil
}

func (s *System) localTokenUsable(tok string) bool {
	if s.LocalKey == nil || tok == "" {
		return false
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return s.LocalKey.Public(), nil },
		jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience(s.Config.Audience), jwt.WithExpirationRequired())
	if err != nil {
		return false
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil || time.Until(exp.Time) <= 24*time.Hour {
		return false
	}
	// A token saved by an older release lacks scopes added since: mint a
	// new one rather than leave the owner locked out of their own data.
	scope, _ := claims["scope"].(string)
	have := domain.ParseScopes(scope)
	for _, want := range domain.LocalOwnerScopes {
		if !slices.Contains(have, want) {
			return false
		}
	}
	return true
}
