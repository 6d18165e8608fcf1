package app

import "github.com/engram-memory/engram/domain"

// listLimit is a list's page size as asked: zero means def, and anything
// outside 1..max is the caller's error naming the bound.
func listLimit(limit, def, max int) (int, error) {
	if limit == 0 {
		return def, nil
	}
	if limit < 1 || limit > max {
		return 0, domain.Invalid("limit", "must be between 1 and %d", max)
	}
	return limit, nil
}
