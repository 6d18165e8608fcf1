// Package httpapi is Engram's REST transport: an echo router serving
// /api/v1 (memories, apps, stats, and the optional groups turned on with
// Enable*), /healthz, /readyz and the OpenAPI document, behind one
// middleware stack.
//
// Every request passes, in order: request id (X-Request-Id, kept when sane,
// generated otherwise, echoed in the response, the problem document and the
// request context so WithRequestID can stamp every log line), security
// headers, the access log (one slog line per request: id, route template,
// status, latency, org and user; never tokens, proofs or memory text), panic
// recovery, a guard that refuses user_id/org_id in the query (the tenant
// comes only from the token), and the body limit. API routes then run a
// per-request deadline, authentication (Authorization: Bearer or DPoP, plus
// the DPoP header, checked by a ports.TokenVerifier against the configured
// public origin, never Host or X-Forwarded-*), the per-user rate limit of
// the route's class (reads, writes or search, by app.RateLimitService;
// failing open when the limiter's backend is down) and the route's own scope.
//
// Other transports share the stack through Mount (authenticated; the
// handler reads the caller with PrincipalFrom) or MountPublic (the handler
// authenticates itself, as the MCP handler at /mcp does, since it must
// answer with its own resource metadata).
//
// Errors of every kind leave through one function, problemFor, as RFC 9457
// application/problem+json. Validation failures are 400 everywhere
// (malformed JSON, unknown fields, bad values alike), with the offending
// field listed under "errors"; 422 is reserved for an Idempotency-Key reused
// with another request.
//
// The OpenAPI document is docs/openapi.yaml merged with the
// docs/openapi-*.yaml fragments of the optional groups; the server serves
// the operations it actually routes, and tests hold every route to the
// document and every test response to its schema.
package httpapi
