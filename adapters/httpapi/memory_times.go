package httpapi

import (
	"time"

	"github.com/engram-memory/engram/domain"
)

// memoryTimes parses a memory's times as a client sends them (issue 18):
// RFC 3339 strings, decoded here rather than by encoding/json so that a
// bad one is a 400 naming its field, not the body. nil stays nil.
func memoryTimes(observedAt, validFrom, validTo *string) (observed, from, to *time.Time, err error) {
	if observed, err = optionalTime("observed_at", observedAt); err != nil {
		return nil, nil, nil, err
	}
	if from, err = optionalTime("valid_from", validFrom); err != nil {
		return nil, nil, nil, err
	}
	if to, err = optionalTime("valid_to", validTo); err != nil {
		return nil, nil, nil, err
	}
	return observed, from, to, nil
}

// optionalTime parses an RFC 3339 instant; nil stays nil.
func optionalTime(field string, s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return nil, domain.Invalid(field, "must be an RFC 3339 date-time such as 2024-05-03T10:00:00Z")
	}
	t = t.UTC()
	return &t, nil
}
