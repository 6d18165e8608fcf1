package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// EntityID identifies an entity (a UUIDv7, like a MemoryID).
type EntityID string

// EntityType is what an entity is. The set is closed; an extractor that
// cannot tell says EntityOther.
type EntityType string

// The entity types (issue 18).
const (
	EntityPerson       EntityType = "person"
	EntityOrganisation EntityType = "organisation"
	EntityPlace        EntityType = "place"
	EntityProduct      EntityType = "product"
	EntityEvent        EntityType = "event"
	EntityDate         EntityType = "date"
	EntityOther        EntityType = "other"
)

// EntityTypes lists every type, in a fixed order.
var EntityTypes = []EntityType{EntityPerson, EntityOrganisation, EntityPlace, EntityProduct, EntityEvent, EntityDate, EntityOther}

// ParseEntityType accepts one of EntityTypes.
func ParseEntityType(s string) (EntityType, error) {
	for _, t := range EntityTypes {
		if string(t) == s {
			return t, nil
		}
	}
	return "", Invalid("type", "must be one of person, organisation, place, product, event, date, other")
}

// MentionKind says how an extractor found a mention; it decides nothing
// but is kept for evaluation and debugging.
type MentionKind string

// The kinds the offline extractor finds.
const (
	MentionName   MentionKind = "name"
	MentionEmail  MentionKind = "email"
	MentionURL    MentionKind = "url"
	MentionHandle MentionKind = "handle"
	MentionDate   MentionKind = "date"
	MentionMoney  MentionKind = "money"
)

// Mention is one entity named in a memory's text: the name as it should be
// shown (a date in ISO form, an email in lower case), its type, and where
// it was found (byte offsets into the text, End exclusive).
type Mention struct {
	Name       string
	Type       EntityType
	Kind       MentionKind
	Start, End int
}

// Bounds of entities (docs/openapi.yaml repeats them).
const (
	MaxEntityNameBytes    = 200
	MaxEntityAliases      = 64
	MaxMentionsPerMemory  = 32
	MaxGraphDepth         = 4
	MaxGraphNodes         = 500
	DefaultGraphNodes     = 100
	MaxPathDepth          = 6
	DefaultEntityPageSize = 50
	MaxEntityPageSize     = 500
)

// Entity is a person, place or thing the memories of one tenant mention.
// Name is how it is shown; Aliases are the other names that resolve to it
// (a merged entity's names, a renamed entity's old name). Memories counts
// the memories linked to it.
type Entity struct {
	ID        EntityID
	Name      string
	Type      EntityType
	Aliases   []string
	Memories  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PredicateCoOccurs is the relation the offline extractor knows: two
// entities named in the same memory. Its weight is the number of such
// memories.
const PredicateCoOccurs = "co_occurs"

// Relation is an edge of the graph: From relates to To by Predicate, with
// a weight (for co-occurrence, how many memories name both).
type Relation struct {
	From      EntityID
	To        EntityID
	Predicate string
	Weight    float64
}

// EntityKey is the form names are matched in: case folded, inner white
// space collapsed to one space, surrounding punctuation and white space
// removed. "  Ada   Lovelace." and "ada lovelace" are one key.
func EntityKey(name string) string {
	name = strings.TrimFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) && r != '$' && r != '@'
	})
	var b strings.Builder
	b.Grow(len(name))
	space := false
	for _, r := range name {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ValidateEntityName refuses a name with no key, too long, or not UTF-8.
func ValidateEntityName(field, name string) error {
	if !utf8.ValidString(name) || len(name) > MaxEntityNameBytes {
		return Invalid(field, "must be at most %d bytes of UTF-8", MaxEntityNameBytes)
	}
	if EntityKey(name) == "" {
		return Invalid(field, "must contain a letter or digit")
	}
	return nil
}

// ValidEntityID reports whether s has the shape of an entity id.
func ValidEntityID(s string) bool { return ValidID(s) }

// NormalizeMentions drops invalid mentions and keeps the first of each
// key, at most MaxMentionsPerMemory, so a store never sees a duplicate
// key in one memory's set.
func NormalizeMentions(ms []Mention) []Mention {
	out := make([]Mention, 0, len(ms))
	seen := make(map[string]struct{}, len(ms))
	for _, m := range ms {
		if ValidateEntityName("name", m.Name) != nil {
			continue
		}
		if _, err := ParseEntityType(string(m.Type)); err != nil {
			m.Type = EntityOther
		}
		k := EntityKey(m.Name)
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, m)
		if len(out) == MaxMentionsPerMemory {
			break
		}
	}
	return out
}

// EntityQuery lists a tenant's entities: those whose name or an alias
// starts with (or, with Contains, contains) Search, of Type when set,
// ordered by the number of memories, then id; After is the id cursor the
// previous page ended with (Memories and ID of its last entity).
type EntityQuery struct {
	Search string
	Type   EntityType
	Limit  int
	After  *EntityCursor
}

// EntityCursor is where a page of entities ended.
type EntityCursor struct {
	Memories int
	ID       EntityID
}

// EntityPage is one page of entities and the cursor of the next, if any.
type EntityPage struct {
	Items []Entity
	Next  *EntityCursor
}

// Validate checks the query's bounds and fills the default limit.
func (q *EntityQuery) Validate() error {
	if q.Limit == 0 {
		q.Limit = DefaultEntityPageSize
	}
	if q.Limit < 1 || q.Limit > MaxEntityPageSize {
		return Invalid("limit", "must be 1-%d", MaxEntityPageSize)
	}
	if len(q.Search) > MaxEntityNameBytes || !utf8.ValidString(q.Search) {
		return Invalid("q", "must be at most %d bytes of UTF-8", MaxEntityNameBytes)
	}
	if q.Type != "" {
		if _, err := ParseEntityType(string(q.Type)); err != nil {
			return err
		}
	}
	return nil
}
