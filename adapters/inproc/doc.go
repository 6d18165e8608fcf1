// Package inproc holds the in-process adapters of the embedded profile: the
// session store, DPoP replay cache and rate limiter (and, beside them, the
// in-process vector index). They keep everything in this process's memory,
// so they suit one engramd; a fleet needs valkeystore, which shares state
// between servers.
//
// Memory is bounded: each structure has a cap (for sessions, in events,
// sessions and approximate bytes) and a background sweeper that
// drops expired entries; Close stops the sweeper. At the cap the session
// store forgets its least recently written session and the rate limiter its
// least recently used bucket (both merely lose short-term state), while the
// replay cache refuses new keys with domain.ErrUnavailable: silently
// forgetting an unexpired jti would let a proof be replayed, so it fails
// closed instead.
package inproc
