package resilience_test

import (
	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/ports"
	"github.com/engram-memory/engram/ports/intercept"
)

// Ports guarded by p, as the wiring guards them (without telemetry).
func newStore(next intercept.Store, p *resilience.Policy) intercept.Store {
	return intercept.WrapStore(next, p.Dependency(), p.Intercept)
}

func newReplayCache(next ports.ReplayCache, p *resilience.Policy) ports.ReplayCache {
	return intercept.WrapReplay(next, p.Dependency(), p.Intercept)
}

func newRateLimiter(next ports.RateLimiter, p *resilience.Policy) ports.RateLimiter {
	return intercept.WrapLimiter(next, p.Dependency(), p.Intercept)
}

func newSessionStore(next ports.SessionStore, p *resilience.Policy) ports.SessionStore {
	return intercept.WrapSessions(next, p.Dependency(), p.Intercept)
}

func newIdempotencyStore(next ports.IdempotencyStore, p *resilience.Policy) ports.IdempotencyStore {
	return intercept.WrapIdempotency(next, p.Dependency(), p.Intercept)
}

func newTextIndex(next ports.TextIndex, p *resilience.Policy) ports.TextIndex {
	return intercept.WrapText(next, p.Dependency(), p.Intercept)
}

func newVectorIndex(next ports.VectorIndex, p *resilience.Policy) ports.VectorIndex {
	return intercept.WrapVectors(next, p.Dependency(), p.Intercept)
}
