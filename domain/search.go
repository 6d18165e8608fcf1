package domain

import (
	"slices"
	"time"
)

// SearchMode picks which rankings a search uses.
type SearchMode string

// The search modes. Hybrid fuses the lexical and the vector ranking; the
// other two use one ranking alone.
const (
	SearchHybrid  SearchMode = "hybrid"
	SearchLexical SearchMode = "lexical"
	SearchVector  SearchMode = "vector"
)

// ParseSearchMode validates a mode name; empty means hybrid.
func ParseSearchMode(s string) (SearchMode, error) {
	switch SearchMode(s) {
	case "":
		return SearchHybrid, nil
	case SearchHybrid, SearchLexical, SearchVector:
		return SearchMode(s), nil
	}
	return "", Invalid("mode", "must be one of hybrid, lexical, vector")
}

// Search limits shared by the API and the indexes.
const (
	DefaultSearchLimit = 10
	MaxSearchLimit     = 100
	MaxQueryBytes      = 4096
	// MaxFilterKeys bounds a filter's metadata keys: each is one predicate
	// of the store's statement, and a few thousand make SQLite refuse it.
	MaxFilterKeys = 32
	// MaxFilterValueBytes bounds one string a metadata filter compares.
	MaxFilterValueBytes = 1024
)

// validateFilterMetadata bounds a metadata filter and turns int values into
// float64; field names the filter in errors.
func validateFilterMetadata(field string, md Metadata) error {
	if len(md) > MaxFilterKeys {
		return Invalid(field, "at most %d keys, got %d", MaxFilterKeys, len(md))
	}
	for k, v := range md {
		if k == "" || len(k) > 256 {
			return Invalid(field, "keys must be 1-256 bytes")
		}
		switch x := v.(type) {
		case string:
			if len(x) > MaxFilterValueBytes {
				return Invalid(field, "the value for %q must be at most %d bytes", k, MaxFilterValueBytes)
			}
		case float64, bool:
		case int:
			md[k] = float64(x)
		default:
			return Invalid(field, "filter on %q must be a string, number or boolean", k)
		}
	}
	return nil
}

// SearchFilter narrows a search. Every set field must hold: the memory was
// written by App, carries every one of Categories, has each Metadata key equal
// to its value (string, float64 or bool), and was created in
// [CreatedAfter, CreatedBefore). The zero value matches everything.
type SearchFilter struct {
	App           AppID
	Categories    []string
	Metadata      Metadata
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// Time (issue 18): ObservedAfter and ObservedBefore keep memories
	// observed in [ObservedAfter, ObservedBefore); AsOf keeps those
	// believed at that instant (Memory.ValidAt: observed by then, and
	// inside their validity). Zero: no bound.
	ObservedAfter  time.Time
	ObservedBefore time.Time
	AsOf           time.Time
}

// Validate normalises categories, turns int metadata values into float64 and
// refuses values that cannot be compared for equality.
func (f *SearchFilter) Validate() error {
	if f.App != "" {
		if err := ValidateAppID(f.App); err != nil {
			return err
		}
	}
	cats, err := NormalizeCategories(f.Categories)
	if err != nil {
		return err
	}
	f.Categories = cats
	if err := validateFilterMetadata("filters.metadata", f.Metadata); err != nil {
		return err
	}
	if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		return Invalid("filters.created_after", "must be before created_before")
	}
	if !f.ObservedAfter.IsZero() && !f.ObservedBefore.IsZero() && !f.ObservedAfter.Before(f.ObservedBefore) {
		return Invalid("observed_after", "must be before observed_before")
	}
	return nil
}

// Matches reports whether a memory with these fields passes the filter.
// Indexes that cannot push a filter down to their backend use it, and the
// search service re-checks hydrated memories with it, so every backend
// answers the same.
func (f SearchFilter) Matches(app AppID, cats []string, md Metadata, created time.Time) bool {
	if f.App != "" && app != f.App {
		return false
	}
	for _, c := range f.Categories {
		if !slices.Contains(cats, c) {
			return false
		}
	}
	for k, want := range f.Metadata {
		got, ok := md[k]
		if !ok || !scalarEqual(got, want) {
			return false
		}
	}
	if !f.CreatedAfter.IsZero() && created.Before(f.CreatedAfter) {
		return false
	}
	if !f.CreatedBefore.IsZero() && !created.Before(f.CreatedBefore) {
		return false
	}
	return true
}

// IsZero reports whether the filter lets everything through.
func (f SearchFilter) IsZero() bool {
	return f.App == "" && len(f.Categories) == 0 && len(f.Metadata) == 0 &&
		f.CreatedAfter.IsZero() && f.CreatedBefore.IsZero() && !f.HasTime()
}

// HasTime reports whether the filter bounds observed_at or asks as_of.
// Vector indexes do not keep those times: the search service applies them
// when it loads the memories (MatchesTimes), and runs the rankings deeper.
func (f SearchFilter) HasTime() bool {
	return !f.ObservedAfter.IsZero() || !f.ObservedBefore.IsZero() || !f.AsOf.IsZero()
}

// MatchesTimes reports whether m passes the filter's time bounds.
func (f SearchFilter) MatchesTimes(m Memory) bool {
	observed := m.ObservedAt
	if observed.IsZero() {
		observed = m.CreatedAt
	}
	if !f.ObservedAfter.IsZero() && observed.Before(f.ObservedAfter) {
		return false
	}
	if !f.ObservedBefore.IsZero() && !observed.Before(f.ObservedBefore) {
		return false
	}
	return f.AsOf.IsZero() || m.ValidAt(f.AsOf)
}

func scalarEqual(got, want any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		return ok && g == w
	case float64:
		switch g := got.(type) {
		case float64:
			return g == w
		case int:
			return float64(g) == w
		}
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	}
	return false
}
