package app

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// AddressGuard is the per-address limit that runs before authentication:
// each client address has a token bucket of failed authentications, and an
// address whose bucket is empty is refused before its credentials are
// looked at. Verifying a credential costs a signature check, and an unknown
// API key a store lookup; without the guard a spray of junk tokens or keys
// from one address is free CPU and database load for its sender, with no
// principal to rate-limit. Only failures draw from the bucket, so many
// users behind one address (a NAT, an agent platform) are never limited by
// the guard while they authenticate; their own limits are per principal.
//
// The guard is in-process on purpose: it must cost less than what it
// protects, so no Valkey round trip. Its table is bounded: when full, the
// entries whose bucket has refilled are dropped (they mean nothing), and
// if every entry is still draining a new address is not tracked until
// room frees up. IPv6 addresses are grouped by /64, the block one host
// usually gets.
type AddressGuard struct {
	limit ports.RateLimit
	clock ports.Clock
	max   int

	mu      sync.Mutex
	buckets map[netip.Prefix]addrBucket
}

// addrBucket is one address's failure budget: tokens left as of at.
type addrBucket struct {
	tokens float64
	at     time.Time
}

// DefaultAddressGuardSize bounds the addresses an AddressGuard tracks.
const DefaultAddressGuardSize = 100_000

// NewAddressGuard allows failures per minute per address (a burst of the
// whole minute's allowance). failures must be positive; clock nil means
// the system clock; size 0 means DefaultAddressGuardSize.
func NewAddressGuard(failures int, clock ports.Clock, size int) (*AddressGuard, error) {
	if failures <= 0 {
		return nil, fmt.Errorf("app: address guard: failures per minute must be positive, got %d", failures)
	}
	if clock == nil {
		clock = ports.SystemClock{}
	}
	if size <= 0 {
		size = DefaultAddressGuardSize
	}
	return &AddressGuard{limit: ports.RateLimit{Burst: failures, Period: time.Minute}, clock: clock, max: size,
		buckets: make(map[netip.Prefix]addrBucket)}, nil
}

// AddressLimitedError refuses a request from an address that has spent its
// failed-authentication budget. It wraps domain.ErrRateLimited (429).
type AddressLimitedError struct {
	RetryAfter time.Duration
}

func (e *AddressLimitedError) Error() string {
	return fmt.Sprintf("too many failed authentications from this address: retry after %s", e.RetryAfter)
}

func (e *AddressLimitedError) Unwrap() error { return domain.ErrRateLimited }

// RetryAfterSeconds is the Retry-After value: whole seconds, at least 1.
func (e *AddressLimitedError) RetryAfterSeconds() int { return max(1, ceilSeconds(e.RetryAfter)) }

// Admit answers nil when remoteAddr (host:port or host, as in
// http.Request.RemoteAddr) may present credentials now, and an
// *AddressLimitedError when its failure budget is spent. A nil guard
// admits everything.
func (g *AddressGuard) Admit(remoteAddr string) error {
	if g == nil {
		return nil
	}
	key, ok := addressKey(remoteAddr)
	if !ok {
		return nil
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.buckets[key]
	if !ok {
		return nil
	}
	tokens := g.refill(b, now)
	if tokens >= 1 {
		return nil
	}
	return &AddressLimitedError{RetryAfter: time.Duration((1 - tokens) * float64(g.perToken()))}
}

// Failed charges one failed authentication to remoteAddr.
func (g *AddressGuard) Failed(remoteAddr string) {
	if g == nil {
		return
	}
	key, ok := addressKey(remoteAddr)
	if !ok {
		return
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.buckets[key]
	tokens := float64(g.limit.Burst)
	if ok {
		tokens = g.refill(b, now)
	} else if len(g.buckets) >= g.max && !g.sweep(now) {
		return
	}
	g.buckets[key] = addrBucket{tokens: max(0, tokens-1), at: now}
}

// Tracked is how many addresses the guard holds, for tests of its bound.
func (g *AddressGuard) Tracked() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.buckets)
}

func (g *AddressGuard) perToken() time.Duration { return g.limit.Period / time.Duration(g.limit.Burst) }

func (g *AddressGuard) refill(b addrBucket, now time.Time) float64 {
	gained := float64(now.Sub(b.at)) / float64(g.perToken())
	return min(float64(g.limit.Burst), b.tokens+max(0, gained))
}

// sweep drops every entry whose bucket has refilled and reports whether
// that made room. Called with mu held, only when the table is full.
func (g *AddressGuard) sweep(now time.Time) bool {
	for k, b := range g.buckets {
		if g.refill(b, now) >= float64(g.limit.Burst) {
			delete(g.buckets, k)
		}
	}
	return len(g.buckets) < g.max
}

// addressKey is the bucket of an address: the IPv4 address, or the /64 of
// an IPv6 one. Zones and IPv4-mapped forms are normalised away.
func addressKey(remoteAddr string) (netip.Prefix, bool) {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}
