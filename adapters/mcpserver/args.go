package mcpserver

import "github.com/engram-memory/engram/domain"

// optInt checks an optional integer argument: absent is 0, which the use
// cases read as "the default"; a present value must lie in [lo, hi]. A
// model that passes 0 asked for 0, which is out of range, not "not given"
// (issue 11), so the tool says so instead of silently using the default.
func optInt(field string, v *int, lo, hi int) (int, error) {
	if v == nil {
		return 0, nil
	}
	if *v < lo || *v > hi {
		return 0, domain.Invalid(field, "must be between %d and %d, got %d", lo, hi, *v)
	}
	return *v, nil
}
