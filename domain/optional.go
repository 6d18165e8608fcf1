package domain

// OptionalInRange checks an optional integer from a request or a tool call:
// absent (nil) is 0, which the use cases read as "the default"; a present
// value must lie in [lo, hi]. A caller that sends 0 chose 0, which is out
// of range, never "not given" (issue 11). The HTTP and MCP edges share it
// so the rule lives in one place.
func OptionalInRange(field string, v *int, lo, hi int) (int, error) {
	if v == nil {
		return 0, nil
	}
	if *v < lo || *v > hi {
		return 0, Invalid(field, "must be between %d and %d, got %d", lo, hi, *v)
	}
	return *v, nil
}
