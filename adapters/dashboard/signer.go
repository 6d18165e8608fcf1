package dashboard

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/engram-memory/engram/domain"
)

// signer is where the dashboard signs users in and renews their tokens:
// the built-in authorization server in process (builtin), or an external
// OpenID Connect issuer over the network (oidcIssuer). The login cookie,
// state, session store, CSRF and refresh lease around it are the same
// for both.
type signer interface {
	// authorizeURL is where login sends the browser; a problem when the
	// issuer cannot be reached to learn it.
	authorizeURL(r *http.Request, state, verifier string) (string, *problem)
	// exchange redeems the authorization code with the PKCE verifier;
	// refresh renews the tokens. A refusal is the token response's error
	// with a status other than 200.
	exchange(r *http.Request, code, verifier string) (tokenResponse, int)
	refresh(r *http.Request, refreshToken string) (tokenResponse, int)
	// subject is the tenant a freshly issued access token names, checked
	// as far as its source needs.
	subject(r *http.Request, access string) (domain.Tenant, *problem)
	// revoke ends the grant behind a refresh token, best effort.
	revoke(r *http.Request, refreshToken string)
	// where names, on the sign-in page, where users sign in: "" for the
	// built-in authorization server.
	where() string
}

// builtin is the built-in authorization server, called in process: its
// tokens are minted by this engramd, so their claims name the tenant
// without another check (every API call verifies them anyway).
type builtin struct{ x *Dashboard }

func (b builtin) authorizeURL(_ *http.Request, state, verifier string) (string, *problem) {
	x := b.x
	sum := sha256.Sum256([]byte(verifier))
	q := make([]string, 0, 8)
	for _, kv := range [][2]string{
		{"response_type", "code"}, {"client_id", x.cfg.ClientID}, {"redirect_uri", RedirectURI(x.cfg.PublicURL)},
		{"code_challenge", base64.RawURLEncoding.EncodeToString(sum[:])}, {"code_challenge_method", "S256"},
		{"scope", strings.Join(x.cfg.Scopes, " ")}, {"state", state},
	} {
		q = append(q, kv[0]+"="+queryEscape(kv[1]))
	}
	return "/authorize?" + strings.Join(q, "&"), nil
}

func (b builtin) exchange(r *http.Request, code, verifier string) (tokenResponse, int) {
	return b.x.tokenRequest(r, map[string]string{
		"grant_type": "authorization_code", "code": code, "client_id": b.x.cfg.ClientID,
		"redirect_uri": RedirectURI(b.x.cfg.PublicURL), "code_verifier": verifier,
	})
}

func (b builtin) refresh(r *http.Request, refreshToken string) (tokenResponse, int) {
	return b.x.tokenRequest(r, map[string]string{"grant_type": "refresh_token", "refresh_token": refreshToken, "client_id": b.x.cfg.ClientID})
}

func (b builtin) subject(_ *http.Request, access string) (domain.Tenant, *problem) {
	return tokenSubject(access), nil
}

func (b builtin) revoke(r *http.Request, refreshToken string) {
	b.x.oauthForm(r, "/revoke", map[string]string{"token": refreshToken})
}

func (builtin) where() string { return "" }
