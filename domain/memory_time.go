package domain

import "time"

// Bounds on a memory's times (issue 18, "Time"). Every store keeps them
// exactly: SQLite as Unix nanoseconds (int64 spans 1677 to 2262),
// PostgreSQL as timestamptz (microseconds).
var (
	// MinMemoryTime and MaxMemoryTime bound observed_at, valid_from and
	// valid_to: wide enough for facts about the past ("founded in 1850")
	// and for plans, narrow enough for every store's representation.
	MinMemoryTime = time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxMemoryTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// MaxObservedAhead is how far observed_at may lie after the memory's
// creation: a statement cannot be heard after it is written down, but
// clients' clocks and time zones drift, so a day of slack is allowed.
const MaxObservedAhead = 24 * time.Hour

// normalizeTimes defaults ObservedAt to CreatedAt, puts the times in UTC
// and checks their bounds and order. Like CreatedAt, PostgreSQL keeps them
// to the microsecond and SQLite to the nanosecond.
func (m *Memory) normalizeTimes() error {
	if m.ObservedAt.IsZero() {
		m.ObservedAt = m.CreatedAt
	}
	m.ObservedAt = m.ObservedAt.UTC()
	if !m.ValidFrom.IsZero() {
		m.ValidFrom = m.ValidFrom.UTC()
	}
	if !m.ValidTo.IsZero() {
		m.ValidTo = m.ValidTo.UTC()
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"observed_at", m.ObservedAt}, {"valid_from", m.ValidFrom}, {"valid_to", m.ValidTo}} {
		if f.t.IsZero() {
			continue
		}
		if f.t.Before(MinMemoryTime) || !f.t.Before(MaxMemoryTime) {
			return Invalid(f.name, "must be between 1700-01-01 and 2200-01-01")
		}
	}
	if !m.CreatedAt.IsZero() && m.ObservedAt.After(m.CreatedAt.Add(MaxObservedAhead)) {
		return Invalid("observed_at", "must not be more than 24 hours after the memory is created")
	}
	if !m.ValidFrom.IsZero() && !m.ValidTo.IsZero() && !m.ValidTo.After(m.ValidFrom) {
		return Invalid("valid_to", "must be after valid_from")
	}
	return nil
}

// ValidAt reports whether the memory was believed at t: observed by then,
// and t inside its validity [ValidFrom, ValidTo) where those are set.
func (m Memory) ValidAt(t time.Time) bool {
	if m.ObservedAt.After(t) {
		return false
	}
	if !m.ValidFrom.IsZero() && m.ValidFrom.After(t) {
		return false
	}
	return m.ValidTo.IsZero() || m.ValidTo.After(t)
}

// SameTimes reports whether a and b carry the same observed_at and
// validity; an update that changes none of its fields writes nothing.
func SameTimes(a, b Memory) bool {
	return a.ObservedAt.Equal(b.ObservedAt) && a.ValidFrom.Equal(b.ValidFrom) && a.ValidTo.Equal(b.ValidTo)
}
