package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// oidcIssuer signs users in at an external OpenID Connect (or plain
// OAuth 2.0) issuer: authorization code with PKCE S256, the code
// exchanged by engramd at the token endpoint, never through the browser.
// The access token is then checked by the API's own verifier (signature
// from the JWKS, iss, aud, lifetime, sub and org_id) before a session is
// made: the dashboard signs in exactly the tokens the API accepts, and
// uses them with the scopes they carry, as any other client would.
//
// Each call to the issuer has a 10 s deadline and none is retried: a code
// is single-use and refresh tokens rotate, so a retry after a lost answer
// would be refused (or revoke the grant); the user's next click is the
// retry. Discovery has its own throttle (discovery).
type oidcIssuer struct {
	cfg      Config
	verifier ports.TokenVerifier
	client   *http.Client
	log      *slog.Logger
	disc     *discovery
}

func newOIDC(cfg Config, d Deps) *oidcIssuer {
	client := d.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: issuerTimeout}
	}
	return &oidcIssuer{cfg: cfg, verifier: d.Verifier, client: client, log: d.Logger,
		disc: &discovery{issuer: cfg.Issuer, client: client, retry: discoveryRetry}}
}

// loginNonce is the OpenID Connect nonce of a sign-in, derived from its
// verifier as the state is: nothing is kept on the server.
func loginNonce(verifier string) string {
	sum := sha256.Sum256([]byte("engram-ui-nonce\x00" + verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (o *oidcIssuer) openID() bool { return slices.Contains(o.cfg.Scopes, "openid") }

// oauth is the client for the issuer's current metadata.
func (o *oidcIssuer) oauth(r *http.Request) (*oauth2.Config, *metadata, *problem) {
	md, err := o.disc.get(r.Context())
	if err != nil {
		o.log.WarnContext(r.Context(), "dashboard: the identity provider's discovery document cannot be read", "issuer", o.cfg.Issuer, "error", err)
		return nil, nil, &problem{Title: "The identity provider cannot be reached", Status: http.StatusServiceUnavailable,
			Detail: "engramd could not read the discovery document of " + o.cfg.Issuer + " (" + err.Error() + "). Try again in a moment; if this persists, the server's ENGRAM_DASHBOARD_OIDC_ISSUER needs a look."}
	}
	return &oauth2.Config{
		ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: RedirectURI(o.cfg.PublicURL), Scopes: o.cfg.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: md.AuthorizationEndpoint, TokenURL: md.TokenEndpoint, AuthStyle: o.authStyle(md)},
	}, md, nil
}

// authStyle is how the client authenticates at the token and revocation
// endpoints: a public client names itself in the form; a confidential
// one uses HTTP Basic, RFC 8414's default, unless the issuer offers only
// client_secret_post.
func (o *oidcIssuer) authStyle(md *metadata) oauth2.AuthStyle {
	switch {
	case o.cfg.ClientSecret == "":
		return oauth2.AuthStyleInParams
	case len(md.TokenAuthMethods) == 0 || slices.Contains(md.TokenAuthMethods, "client_secret_basic"):
		return oauth2.AuthStyleInHeader
	case slices.Contains(md.TokenAuthMethods, "client_secret_post"):
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleAutoDetect
}

func (o *oidcIssuer) authorizeURL(r *http.Request, state, verifier string) (string, *problem) {
	c, _, p := o.oauth(r)
	if p != nil {
		return "", p
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if o.cfg.Audience != "" {
		opts = append(opts, oauth2.SetAuthURLParam("audience", o.cfg.Audience))
	}
	if o.openID() {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", loginNonce(verifier)))
	}
	return c.AuthCodeURL(state, opts...), nil
}

// call runs one token request under the issuer deadline.
func (o *oidcIssuer) call(r *http.Request, f func(ctx context.Context, c *oauth2.Config) (*oauth2.Token, error)) (*oauth2.Token, tokenResponse, int) {
	c, _, p := o.oauth(r)
	if p != nil {
		return nil, tokenResponse{Error: "temporarily_unavailable", Desc: p.Detail}, http.StatusServiceUnavailable
	}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), oauth2.HTTPClient, o.client), issuerTimeout)
	defer cancel()
	t, err := f(ctx, c)
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		status := http.StatusBadGateway
		if re.Response != nil && re.Response.StatusCode >= 400 {
			status = re.Response.StatusCode
		}
		code := re.ErrorCode
		if code == "" {
			code = "server_error"
		}
		return nil, tokenResponse{Error: code, Desc: re.ErrorDescription}, status
	case err != nil:
		o.log.WarnContext(r.Context(), "dashboard: the identity provider's token endpoint failed", "issuer", o.cfg.Issuer, "error", err)
		return nil, tokenResponse{Error: "temporarily_unavailable", Desc: "the identity provider's token endpoint could not be reached; try again in a moment"}, http.StatusServiceUnavailable
	}
	exp := t.Expiry
	if exp.IsZero() {
		exp = tokenExpiry(t.AccessToken)
	}
	return t, tokenResponse{Access: t.AccessToken, Refresh: t.RefreshToken, ExpiresIn: int(time.Until(exp).Seconds())}, http.StatusOK
}

func (o *oidcIssuer) exchange(r *http.Request, code, verifier string) (tokenResponse, int) {
	t, tok, status := o.call(r, func(ctx context.Context, c *oauth2.Config) (*oauth2.Token, error) {
		return c.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	})
	if status != http.StatusOK {
		return tok, status
	}
	if id, _ := t.Extra("id_token").(string); id != "" && o.openID() {
		if err := o.checkIDToken(id, loginNonce(verifier)); err != nil {
			return tokenResponse{Error: "invalid_id_token", Desc: err.Error()}, http.StatusBadGateway
		}
	}
	return tok, status
}

func (o *oidcIssuer) refresh(r *http.Request, refreshToken string) (tokenResponse, int) {
	_, tok, status := o.call(r, func(ctx context.Context, c *oauth2.Config) (*oauth2.Token, error) {
		// A token with no access token is expired: Token() refreshes.
		return c.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	})
	return tok, status
}

// subject verifies the access token as the API will, so a token the API
// would refuse (another audience, no org_id, an unknown key) fails the
// sign-in with its reason instead of making a session that cannot load a
// page.
func (o *oidcIssuer) subject(r *http.Request, access string) (domain.Tenant, *problem) {
	p, err := o.verifier.Verify(r.Context(), ports.Credentials{Scheme: "Bearer", Token: access, Method: http.MethodGet, URL: o.cfg.PublicURL + "/api/v1/memories"})
	if errors.Is(err, domain.ErrUnavailable) {
		return domain.Tenant{}, &problem{Title: "The identity provider's signing keys cannot be read right now", Status: http.StatusServiceUnavailable, Detail: "Try again in a moment."}
	}
	if err != nil {
		return domain.Tenant{}, &problem{Title: "engramd does not accept the identity provider's access token", Status: http.StatusForbidden,
			Detail: err.Error() + ". Its issuer, audience, signature, sub and org_id must be what ENGRAM_AUTH_ISSUER, ENGRAM_AUTH_AUDIENCE and ENGRAM_AUTH_JWKS_URL expect."}
	}
	if !slices.Contains(p.Scopes, domain.ScopeMemoriesRead) {
		return domain.Tenant{}, &problem{Title: "The identity provider's access token does not grant memories:read", Status: http.StatusForbidden,
			Detail: "The dashboard needs at least memories:read; grant its client the scopes it asks for (ENGRAM_DASHBOARD_OIDC_SCOPES)."}
	}
	return domain.Tenant{OrgID: p.OrgID, UserID: p.UserID}, nil
}

// revoke calls the revocation endpoint (RFC 7009) when the issuer has
// one; sign-out ends the session whatever it answers.
func (o *oidcIssuer) revoke(r *http.Request, refreshToken string) {
	c, md, p := o.oauth(r)
	if p != nil || md.RevocationEndpoint == "" {
		return
	}
	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}}
	basic := c.Endpoint.AuthStyle == oauth2.AuthStyleInHeader || c.Endpoint.AuthStyle == oauth2.AuthStyleAutoDetect
	if !basic {
		form.Set("client_id", o.cfg.ClientID)
		if o.cfg.ClientSecret != "" {
			form.Set("client_secret", o.cfg.ClientSecret)
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), issuerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		// RFC 6749 §2.3.1: the id and secret are form-encoded first.
		req.SetBasicAuth(url.QueryEscape(o.cfg.ClientID), url.QueryEscape(o.cfg.ClientSecret))
	}
	res, err := o.client.Do(req)
	if err != nil {
		o.log.InfoContext(r.Context(), "dashboard: revoking at the identity provider failed", "error", err)
		return
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		o.log.InfoContext(r.Context(), "dashboard: the identity provider refused the revocation", "status", res.StatusCode)
	}
}

func (o *oidcIssuer) where() string { return o.cfg.Issuer }

// checkIDToken checks the ID token the token endpoint returned with the
// code. It came straight from the issuer over the connection engramd
// opened, so OpenID Connect Core §3.1.3.7 lets the client rely on that
// connection instead of the signature; its nonce ties it to this
// browser's sign-in. The session's identity is the access token's, which
// subject verifies; this refuses an exchange that mixed sign-ins up.
func (o *oidcIssuer) checkIDToken(raw, nonce string) error {
	var c struct {
		Iss   string          `json:"iss"`
		Aud   json.RawMessage `json:"aud"`
		Nonce string          `json:"nonce"`
	}
	if err := jwtClaims(raw, &c); err != nil {
		return fmt.Errorf("the ID token cannot be read: %w", err)
	}
	var auds []string
	if json.Unmarshal(c.Aud, &auds) != nil {
		var one string
		_ = json.Unmarshal(c.Aud, &one)
		auds = []string{one}
	}
	switch {
	case c.Iss != o.cfg.Issuer:
		return fmt.Errorf("the ID token's issuer is %q, not %q", c.Iss, o.cfg.Issuer)
	case !slices.Contains(auds, o.cfg.ClientID):
		return errors.New("the ID token is not for this client")
	case c.Nonce != nonce:
		return errors.New("the ID token's nonce is not this sign-in's")
	}
	return nil
}

// jwtClaims decodes a JWT's payload without checking its signature.
func jwtClaims(jwt string, into any) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}

// tokenExpiry is a JWT access token's exp, for an issuer that sent no
// expires_in; five minutes when it has none either (the session then
// refreshes, or signs in again, soon).
func tokenExpiry(access string) time.Time {
	var c struct {
		Exp int64 `json:"exp"`
	}
	if jwtClaims(access, &c) != nil || c.Exp == 0 {
		return time.Now().Add(5 * time.Minute)
	}
	return time.Unix(c.Exp, 0)
}
