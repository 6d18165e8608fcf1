// Package resilience guards Engram's driven ports with failsafe-go policies:
// a circuit breaker per dependency, a deadline on every call, and retries
// with exponential backoff and jitter for idempotent operations only (reads
// and pings; never Create, Append, Remember or Allow, whose retry could
// write twice or spend a token twice). A Policy is an interceptor
// (Policy.Intercept); package ports/intercept has the one wrapper per port
// that hands it each call.
//
// Every failure the policies produce — an open breaker, a deadline passed,
// retries exhausted on a backend failure — comes back as a
// *domain.UnavailableError naming the dependency and a Retry-After, so the
// HTTP edge answers 503 with Retry-After and a problem document. Domain
// answers (not found, invalid, conflict) pass through untouched and never
// count against the breaker: a missing memory is not an outage.
package resilience
