package domain

import (
	"encoding/base64"
	"time"
)

// List limits shared by the API and the stores.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// ListQuery filters and pages a user's memories. The zero value lists every
// memory that is not deleted, newest first.
type ListQuery struct {
	App           AppID
	AgentID       string  // exact; empty: any agent (or none)
	RunID         string  // exact; empty: any run (or none)
	States        []State // empty: every state except deleted
	Categories    []string
	Metadata      Metadata // key = value equality; values string, float64 or bool
	CreatedAfter  time.Time
	CreatedBefore time.Time
	TextContains  string
	IDs           []MemoryID
	// Where is an expression of the filter language (ParseFilter), ANDed
	// with the fields above; nil selects everything.
	Where  *Filter
	Limit  int
	Cursor string // opaque; from Page.NextCursor
	// Order is NewestFirst (the default) or OldestFirst, by creation (the
	// id is a UUIDv7). A cursor continues in the order it was issued for.
	Order ListOrder
}

// ListOrder is the order of a list: by creation, newest or oldest first.
type ListOrder string

const (
	NewestFirst ListOrder = "newest"
	OldestFirst ListOrder = "oldest"
)

// ParseListOrder validates an order name; empty means NewestFirst.
func ParseListOrder(s string) (ListOrder, error) {
	switch ListOrder(s) {
	case "", NewestFirst:
		return NewestFirst, nil
	case OldestFirst:
		return OldestFirst, nil
	}
	return "", Invalid("order", "must be newest or oldest")
}

// Validate checks limits and filters and fills defaults.
func (q *ListQuery) Validate() error {
	if q.Limit == 0 {
		q.Limit = DefaultListLimit
	}
	if q.Limit < 1 || q.Limit > MaxListLimit {
		return Invalid("limit", "must be between 1 and %d", MaxListLimit)
	}
	order, err := ParseListOrder(string(q.Order))
	if err != nil {
		return err
	}
	q.Order = order
	if q.App != "" {
		if err := ValidateAppID(q.App); err != nil {
			return err
		}
	}
	if err := ValidateScopeID("agent_id", q.AgentID); err != nil {
		return err
	}
	if err := ValidateScopeID("run_id", q.RunID); err != nil {
		return err
	}
	if len(q.States) > MaxStateFilters {
		return Invalid("state", "must name at most %d states", MaxStateFilters)
	}
	for _, s := range q.States {
		if _, err := ParseState(string(s)); err != nil {
			return err
		}
	}
	cats, err := NormalizeCategories(q.Categories)
	if err != nil {
		return err
	}
	q.Categories = cats
	if err := validateFilterMetadata("metadata", q.Metadata); err != nil {
		return err
	}
	if len(q.TextContains) > 1024 {
		return Invalid("text_contains", "must be at most 1024 bytes")
	}
	if q.Cursor != "" {
		if len(q.Cursor) > MaxCursorLen {
			return Invalid("cursor", "is not a cursor this server issued")
		}
		if _, err := DecodeCursor(q.Cursor); err != nil {
			return err
		}
	}
	return nil
}

// Page is one page of a list; NextCursor is empty on the last page.
type Page struct {
	Items      []Memory
	NextCursor string
}

// MaxCursorLen bounds a cursor a client sends back (one this server issues
// is 48 characters); MaxStateFilters the states one list may name.
const (
	MaxCursorLen    = 64
	MaxStateFilters = 4
)

// EncodeCursor makes an opaque cursor after the given memory id. Lists are
// ordered by id descending (newest first), so a cursor is the last id seen.
func EncodeCursor(id MemoryID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

// DecodeCursor reverses EncodeCursor and refuses anything else.
func DecodeCursor(c string) (MemoryID, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !ValidID(string(raw)) {
		return "", Invalid("cursor", "is not a cursor this server issued")
	}
	return MemoryID(raw), nil
}

// Stats counts a user's memories: every state, deleted included, erased
// and expired not. Stores read it from a cached aggregate kept by their
// writes (see Tally), never by scanning the memories.
type Stats struct {
	Total   int
	ByState map[State]int
	ByApp   map[AppID]int
	Apps    int
	// ByCategory counts the memories filed under each category.
	ByCategory map[string]int
	// ByDay counts the memories created on each UTC day (YYYY-MM-DD).
	ByDay map[string]int
	// Accessed counts, per app, the memories that app read (one per
	// memory however often it read it; the access log's retention applies).
	Accessed map[AppID]int
}

// ComparesMetadata reports whether q compares metadata values: Metadata,
// or a metadata comparison in Where. A store that keeps metadata values
// sealed cannot apply those in SQL to its sealed rows.
func (q ListQuery) ComparesMetadata() bool {
	if len(q.Metadata) > 0 {
		return true
	}
	found := false
	if q.Where != nil {
		q.Where.Leaves(func(f Filter) { found = found || f.Field == FieldMetadata })
	}
	return found
}

// MatchesFilters reports whether m passes q.Metadata (each key equal to its
// value, JSON types kept apart) and q.Where (Filter.Eval): what a store
// checks in process on rows its SQL cannot filter (sealed metadata).
func (q ListQuery) MatchesFilters(m Memory) bool {
	for k, v := range q.Metadata {
		if !(Filter{Field: FieldMetadata, Key: k, Op: OpEq, Value: v}).Eval(m) {
			return false
		}
	}
	return q.Where == nil || q.Where.Eval(m)
}
