package httpapi

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/engram-memory/engram/domain"
)

// mem0's expiration_date ("YYYY-MM-DD", null for none) is a memory's last
// day: it is returned through that day and not after. Engram keeps an
// instant, expires_at, so the date becomes the start of the following day
// in UTC; a full RFC 3339 timestamp is taken as the instant itself. Dropping
// it silently, as these routes did, kept memories a client had asked to
// expire.

const expirationFormat = "must be a date (YYYY-MM-DD), a timestamp (RFC 3339) or null"

// mem0ExpiryOf parses an expiration_date. It reports set=false when raw is
// absent, and at=nil when it is null or empty (no expiry).
func mem0ExpiryOf(raw json.RawMessage) (at *time.Time, set bool, err error) {
	if len(raw) == 0 {
		return nil, false, nil
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, true, domain.Invalid("expiration_date", expirationFormat)
	}
	if s == "" {
		return nil, true, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err == nil {
		t = t.AddDate(0, 0, 1)
	} else if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
		return nil, true, domain.Invalid("expiration_date", expirationFormat)
	}
	// The service checks this again against its clock; here the problem
	// can name the field the client sent.
	if !t.After(time.Now()) {
		return nil, true, domain.Invalid("expiration_date", "must be today or later (the memory is returned through that day, UTC)")
	}
	return &t, true, nil
}

// mem0ExpirationDate is the last day a memory expiring at t is returned.
func mem0ExpirationDate(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	d := t.UTC().Add(-time.Nanosecond).Format(time.DateOnly)
	return &d
}

// refuseShowExpired answers mem0's show_expired: true. Engram erases an
// expired memory (docs/privacy.md), so there is nothing to show; saying so
// beats answering as if the option had been honoured.
func refuseShowExpired(show *bool) error {
	if show != nil && *show {
		return domain.Invalid("show_expired", "expired memories are erased, not kept (docs/privacy.md); leave it out or false")
	}
	return nil
}

// mem0CreatedAt reads mem0's timestamp (Unix seconds, a fraction allowed):
// when the memory was made, for history loaded after the fact. It was
// dropped silently before, so such memories were dated at their import.
func mem0CreatedAt(ts *float64) (*time.Time, error) {
	if ts == nil {
		return nil, nil
	}
	sec := *ts
	if sec != sec || sec < 0 || sec > float64(time.Now().Unix()) {
		return nil, domain.Invalid("timestamp", "must be Unix seconds between 1970 and now")
	}
	t := time.Unix(0, int64(sec*float64(time.Second))).UTC()
	return &t, nil
}
