package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Caches are the short-lived shared state: DPoP replay keys, rate-limit
// buckets, sessions and Idempotency-Key answers, all on one backend.
type Caches struct {
	// Name is the dependency's name in metrics, breakers and /readyz:
	// "valkey" or "inproc".
	Name string
	// ReplayName is the dependency name of Replay when it has a server of
	// its own (ENGRAM_REPLAY_VALKEY_URL): "valkey_replay", with its own
	// breaker and /readyz entry. Empty: Replay is on Name's backend.
	ReplayName  string
	Replay      ports.ReplayCache
	Limiter     ports.RateLimiter
	Sessions    ports.SessionStore
	Idempotency ports.IdempotencyStore
	// Revocations carries API key revocations to every instance; nil in
	// process, where the key cache's TTL bounds what other processes see.
	Revocations ports.KeyRevocations
	// Admin is the server behind them, for benchmarks and operators; nil
	// in process.
	Admin CacheAdmin
	// Erasers are the session and idempotency stores undecorated, for
	// erasure and subject access.
	Erasers CacheErasers
	// Checks are the caches' /readyz entries.
	Checks []httpapi.Check
	// Close releases the caches.
	Close func() error
}

// CacheAdmin is what a cache server offers beyond the ports.
type CacheAdmin interface {
	Ping(ctx context.Context) error
	// MaxMemoryPolicy is the server's eviction policy (DPoP replay keys
	// need noeviction).
	MaxMemoryPolicy(ctx context.Context) (string, error)
	// DeletePrefixed deletes every key under this deployment's prefix and
	// returns how many it deleted.
	DeletePrefixed(ctx context.Context) (int, error)
	// AppendBatch appends session events in one pipelined round trip (bulk
	// loads and benchmarks; the API appends one event at a time).
	AppendBatch(ctx context.Context, t domain.Tenant, sid domain.SessionID, es []domain.SessionEvent) error
}

// OpenCaches opens Valkey when ENGRAM_VALKEY_URL is set (under
// ENGRAM_VALKEY_PREFIX), else in-process caches, which only one process sees.
// Session events are sealed with the data keys of keys (the system of
// record, Backend.SessionKeys) when encryption is on; nil keeps them as
// written (commands that never touch sessions).
// With ENGRAM_REPLAY_VALKEY_URL the DPoP replay keys go to that server
// instead: sessions and idempotency records, which users fill, can then
// never crowd out the replay keys every DPoP request needs.
func OpenCaches(ctx context.Context, cfg config.Config, log *slog.Logger, keys ports.SessionKeys) (Caches, error) {
	c, err := openCaches(ctx, cfg, log, keys)
	if err != nil || cfg.ReplayValkeyURL == "" {
		return c, err
	}
	rs, err := valkeystore.Open(ctx, valkeystore.Config{URL: cfg.ReplayValkeyURL, Options: valkeystore.Options{Prefix: cfg.ValkeyPrefix}})
	if err != nil {
		_ = c.Close()
		return Caches{}, fmt.Errorf("ENGRAM_REPLAY_VALKEY_URL: %w", err)
	}
	warnEviction(ctx, rs, log)
	const name = "valkey_replay"
	// On Valkey the default backend's client also serves replay keys, unused
	// here; in process no replay cache was opened.
	c.ReplayName, c.Replay = name, rs
	c.Checks = append(c.Checks,
		httpapi.Check{Name: name, Required: true, Probe: rs.Ping},
		httpapi.Check{Name: name + "_maxmemory_policy_noeviction", Probe: noEvictionProbe(rs)},
	)
	closeRest := c.Close
	c.Close = func() error { return errors.Join(closeRest(), rs.Close()) }
	return c, nil
}

// noEvictionProbe reports whether a Valkey server keeps every key: an
// evicted replay key weakens DPoP replay protection but does not stop
// service, so the check is reported, not required. Its name says what
// /readyz expects.
func noEvictionProbe(vs *valkeystore.Store) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		policy, err := vs.MaxMemoryPolicy(ctx)
		if err == nil && policy != "noeviction" {
			err = fmt.Errorf("valkey maxmemory-policy is %q; DPoP replay keys need noeviction", policy)
		}
		return err
	}
}

func openCaches(ctx context.Context, cfg config.Config, log *slog.Logger, keys ports.SessionKeys) (Caches, error) {
	switch {
	case cfg.ValkeyURL != "":
		vs, err := valkeystore.Open(ctx, valkeystore.Config{URL: cfg.ValkeyURL, Options: valkeystore.Options{Prefix: cfg.ValkeyPrefix, MaxBytesPerUser: cfg.ValkeyUserBytes, SessionKeys: keys}})
		if err != nil {
			return Caches{}, fmt.Errorf("ENGRAM_VALKEY_URL: %w", err)
		}
		warnEviction(ctx, vs, log)
		return Caches{
			Name: "valkey", Replay: vs, Limiter: vs, Sessions: vs, Idempotency: vs, Admin: vs, Revocations: vs,
			Erasers: CacheErasers{Sessions: vs, Idempotency: vs},
			Checks: []httpapi.Check{
				{Name: "valkey", Required: true, Probe: vs.Ping},
				{Name: "valkey_maxmemory_policy_noeviction", Probe: noEvictionProbe(vs)},
			},
			Close: vs.Close,
		}, nil
	default:
		limiter := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
		sessions := inproc.NewSessionStore(inproc.SessionOptions{Keys: keys})
		idem := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{})
		c := Caches{
			Name: "inproc", Limiter: limiter, Sessions: sessions, Idempotency: idem,
			Erasers: CacheErasers{Sessions: sessions, Idempotency: idem},
			Close: func() error {
				return errors.Join(limiter.Close(), sessions.Close(), idem.Close())
			},
		}
		// With ENGRAM_REPLAY_VALKEY_URL, OpenCaches puts the replay keys
		// there: no in-process replay cache (and its sweeper) to idle.
		if cfg.ReplayValkeyURL == "" {
			replay := inproc.NewReplayCache(inproc.ReplayOptions{})
			closeRest := c.Close
			c.Replay, c.Close = replay, func() error { return errors.Join(replay.Close(), closeRest()) }
		}
		return c, nil
	}
}

func warnEviction(ctx context.Context, vs *valkeystore.Store, log *slog.Logger) {
	if policy, err := vs.MaxMemoryPolicy(ctx); err != nil {
		log.Warn("could not read valkey maxmemory-policy", "err", err)
	} else if policy != "noeviction" {
		log.Warn("valkey maxmemory-policy is not noeviction: an evicted DPoP jti can be replayed; set maxmemory-policy noeviction", "policy", policy)
	}
}
