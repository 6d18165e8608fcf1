// Package oauthserver is Engram's built-in OAuth 2.1 authorization server,
// for the zero-config and small-team profiles whose tokens are signed by the
// local key (with an external issuer, ENGRAM_AUTH_JWKS_URL, it is off: that
// issuer is the authorization server).
//
// It serves RFC 8414 metadata, RFC 7591 dynamic client registration (public
// clients only, redirect URIs on loopback http or https), the authorization
// code grant with PKCE S256 only behind a server-rendered sign-in and consent
// page, refresh tokens that rotate on every use, and RFC 7009 revocation.
// A code and its refresh tokens form one grant (a token family): presenting
// a used code or refresh token again revokes the whole family, since one of
// the two presenters is not the client it was issued to.
//
// Access tokens are minted by the caller's Mint function, exactly as the
// local tokens of `engram token` are: short-lived here, audience-bound and,
// when the token request carries a DPoP proof, bound to its key.
//
// State lives behind ports.OAuthStore (clients, users, grants); sign-in
// sessions of the browser live in this process only, so a restart signs the
// browser out but keeps every grant.
package oauthserver
