package domain

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Bounds of a time to live, whether a memory's own or a retention period:
// under a second is a typo, over a century is "forever" spelled badly.
const (
	MinTTL = time.Second
	MaxTTL = 100 * 365 * 24 * time.Hour
	// MaxAppTTLs bounds the per-app defaults of one org.
	MaxAppTTLs = 256
)

// ValidateTTL refuses a time to live outside [MinTTL, MaxTTL]; field names
// the input in the error.
func ValidateTTL(field string, d time.Duration) error {
	if d < MinTTL || d > MaxTTL {
		return Invalid(field, "must be between 1 second and 100 years, got %s", d)
	}
	return nil
}

// ExpiryOf resolves when a memory expires from what a client sent: an
// absolute expiresAt, or a ttl counted from now, never both. A ttl of 0
// says "never", overriding def. Neither gives def (the app's default TTL,
// 0 for none). An expiry that is not in the future is refused: a write
// that could never be read back is a client's mistake.
func ExpiryOf(now time.Time, expiresAt *time.Time, ttl *time.Duration, def time.Duration) (time.Time, error) {
	switch {
	case expiresAt != nil && ttl != nil:
		return time.Time{}, Invalid("ttl", "give expires_at or ttl, not both")
	case expiresAt != nil:
		if !expiresAt.After(now) {
			return time.Time{}, Invalid("expires_at", "must be in the future")
		}
		if expiresAt.Sub(now) > MaxTTL {
			return time.Time{}, Invalid("expires_at", "must be at most 100 years ahead")
		}
		return expiresAt.UTC(), nil
	case ttl != nil && *ttl == 0:
		return time.Time{}, nil
	case ttl != nil:
		if err := ValidateTTL("ttl", *ttl); err != nil {
			return time.Time{}, err
		}
		return now.Add(*ttl).UTC(), nil
	case def != 0:
		return now.Add(def).UTC(), nil
	}
	return time.Time{}, nil
}

// Retention is an org's data retention policy (issue 16). A zero duration
// keeps the data until the user or an erasure removes it.
type Retention struct {
	// AccessLog, QueryLog and Feedback: rows older than this are erased
	// by the sweeper (memory_access, query_logs, feedback_events).
	AccessLog time.Duration
	QueryLog  time.Duration
	Feedback  time.Duration
	// AppTTL is the default time to live of a memory written through an
	// app that names none itself.
	AppTTL    map[AppID]time.Duration
	UpdatedAt time.Time
}

// Validate checks every period and app id.
func (r Retention) Validate() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"access_log", r.AccessLog}, {"query_log", r.QueryLog}, {"feedback", r.Feedback}} {
		if f.d != 0 {
			if err := ValidateTTL(f.name, f.d); err != nil {
				return err
			}
		}
	}
	if len(r.AppTTL) > MaxAppTTLs {
		return Invalid("app_ttl", "at most %d apps, got %d", MaxAppTTLs, len(r.AppTTL))
	}
	for _, app := range slices.Sorted(maps.Keys(r.AppTTL)) {
		if err := ValidateAppID(app); err != nil {
			return Invalid(fmt.Sprintf("app_ttl[%s]", app), "is not an app id")
		}
		if err := ValidateTTL(fmt.Sprintf("app_ttl[%s]", app), r.AppTTL[app]); err != nil {
			return err
		}
	}
	return nil
}

// MemoryTTL is the default time to live of app's memories, 0 for none.
func (r Retention) MemoryTTL(app AppID) time.Duration { return r.AppTTL[app] }

// Cutoff is the instant before which rows kept for d are erased at now,
// or the zero time when d keeps them forever.
func Cutoff(now time.Time, d time.Duration) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return now.Add(-d)
}

// SecondsTTL turns a period in whole seconds, as the HTTP and MCP edges
// receive it, into a duration: nil stays nil (absent), 0 stays 0, and
// anything negative or over MaxTTL is refused naming field.
func SecondsTTL(field string, n *int64) (*time.Duration, error) {
	if n == nil {
		return nil, nil
	}
	if *n < 0 || *n > int64(MaxTTL/time.Second) {
		return nil, Invalid(field, "must be 0 or 1 to %d seconds", int64(MaxTTL/time.Second))
	}
	d := time.Duration(*n) * time.Second
	return &d, nil
}
