package jwtauth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

type noReplay struct{}

func (noReplay) Remember(context.Context, string, time.Time) (bool, error) { return true, nil }

// TestLocalKeyRequiresATJWT: the local verifier refuses a token its own
// key signed unless it is typed at+jwt (RFC 9068), as Mint types it; an
// external issuer's verifier does so only when RequireATJWT is set (it is
// an internal test because only the package can sign with the local key
// by hand).
func TestLocalKeyRequiresATJWT(t *testing.T) {
	key, _, err := LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sign := func(typ string) string {
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
			"iss": LocalIssuer, "aud": DefaultAudience, "sub": "u", "org_id": "o",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		})
		tok.Header["kid"] = key.kid
		if typ != "" {
			tok.Header["typ"] = typ
		} else {
			delete(tok.Header, "typ")
		}
		s, err := tok.SignedString(key.priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	verify := func(v *Verifier, typ string) error {
		_, err := v.Verify(context.Background(), ports.Credentials{Scheme: "Bearer", Token: sign(typ)})
		return err
	}
	local, err := NewLocal(key, Config{ReplayCache: noReplay{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt"} {
		if err := verify(local, typ); err != nil {
			t.Errorf("typ %q: %v", typ, err)
		}
	}
	for _, typ := range []string{"JWT", "", "jwt", "dpop+jwt"} {
		var ae *domain.AuthError
		if err := verify(local, typ); !errors.As(err, &ae) || ae.Code != "invalid_token" {
			t.Errorf("typ %q: want invalid_token, got %v", typ, err)
		}
	}
	// The same switch on a verifier over another key source.
	src := localSource{kid: key.kid, pub: key.Public()}
	for _, require := range []bool{false, true} {
		cfg, err := Config{Issuer: LocalIssuer, Audience: DefaultAudience, ReplayCache: noReplay{}, RequireATJWT: require}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		err = verify(newVerifier(cfg, src), "JWT")
		if (err == nil) == require {
			t.Errorf("RequireATJWT=%v: typ JWT gave %v", require, err)
		}
	}
}
