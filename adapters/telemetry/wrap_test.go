package telemetry_test

import (
	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/ports"
	"github.com/engram-memory/engram/ports/intercept"
)

// Ports observed by tel, as the wiring observes them (without policies).
func storeOf(tel *telemetry.T, dep string, next intercept.Store) intercept.Store {
	return intercept.WrapStore(next, dep, tel.Intercept)
}

func limiterOf(tel *telemetry.T, dep string, next ports.RateLimiter) ports.RateLimiter {
	return tel.CountDecisions(dep, intercept.WrapLimiter(next, dep, tel.Intercept))
}

func idempotencyOf(tel *telemetry.T, dep string, next ports.IdempotencyStore) ports.IdempotencyStore {
	return intercept.WrapIdempotency(next, dep, tel.Intercept)
}
