// Package httpapi is Engram's REST transport: an echo router serving
// /api/v1 (memories, apps, stats), /healthz, /readyz and the OpenAPI
// document, behind one middleware stack.
//
// Every request passes, in order: request id (X-Request-Id, kept when sane,
// generated otherwise), security headers, the access log (one slog line per
// request: id, route template, status, latency, org and user; never tokens,
// proofs or memory text), a guard that refuses user_id/org_id in the query
// (the tenant comes only from the token), and the body limit. Routes that
// need a caller then run authentication (Authorization: Bearer or DPoP, plus
// the DPoP header, checked by a ports.TokenVerifier against the configured
// public origin, never Host or X-Forwarded-*) and the route's own scope.
//
// Other transports share that stack through Server.Mount: the MCP handler is
// mounted at /mcp, sees an authenticated request, and reads the caller with
// PrincipalFrom(r.Context()).
//
// Errors of every kind leave through one function, problemFor, as RFC 9457
// application/problem+json. Validation failures are 400 everywhere (malformed
// JSON, unknown fields, bad values alike), with the offending field listed
// under "errors"; 422 is not used so that clients have one code to handle.
package httpapi
