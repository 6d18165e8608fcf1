// Package dashboard is Engram's web dashboard, served by engramd at / and
// /ui/: server-rendered html/template pages embedded with go:embed, one
// small vendored stylesheet and one small script (no inline script or
// style, so the Content-Security-Policy needs no 'unsafe-inline'), and no
// Node toolchain at build or run time.
//
// The dashboard holds no business logic and no privileges of its own. It
// signs the user in through the built-in authorization server as a
// first-party OAuth client (authorization code with PKCE S256, the code
// exchanged in process, never through the browser), or, with an external
// issuer, as that issuer's client (the same flow against its discovered
// endpoints, the access token verified by the API's verifier before a
// session is made; oidc.go), and keeps the access
// and refresh tokens in a server-side session kept in the store
// (ports.UISessionStore: it survives a restart and is shared by every
// engramd process on the store); the browser holds only an opaque
// HttpOnly, SameSite=Lax cookie (Secure under TLS). Every action is
// a request to the REST API (/api/v1) made in process with the session's
// access token, so it passes the same authentication, scopes, rate limits,
// validation and tenancy as any other client, and an API error comes back
// as the RFC 9457 problem document the page shows.
//
// Every state-changing request is a POST form carrying the session's CSRF
// token (synchronizer pattern); a post without it, or from another origin
// (Origin / Sec-Fetch-Site), is refused 403 before anything is called.
package dashboard
