package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on a memory's parts. They bound storage per row and make an index
// entry's size predictable.
const (
	MaxTextBytes     = 64 << 10
	MaxMetadataBytes = 16 << 10
	MaxCategories    = 32
	MaxCategoryLen   = 64
)

// State is a memory's lifecycle state. Only active memories are searched.
type State string

// The memory states. Deleted is a soft delete: hidden from lists and search,
// history kept. Erasure removes the content for good (see MemoryStore.Erase).
const (
	StateActive   State = "active"
	StatePaused   State = "paused"
	StateArchived State = "archived"
	StateDeleted  State = "deleted"
)

// ParseState validates a state name.
func ParseState(s string) (State, error) {
	switch State(s) {
	case StateActive, StatePaused, StateArchived, StateDeleted:
		return State(s), nil
	}
	return "", Invalid("state", "must be one of active, paused, archived, deleted")
}

// Metadata is a JSON object attached to a memory. Values are canonical JSON
// types after NormalizeMetadata: string, float64, bool, nil, []any,
// map[string]any.
type Metadata map[string]any

// Memory is one thing an agent learned about a user.
type Memory struct {
	ID     MemoryID
	OrgID  OrgID
	UserID UserID
	AppID  AppID
	// AgentID and RunID are mem0's agent and run scopes beside the user:
	// optional (empty), set when the memory is written, never changed.
	// Exact duplicates are detected within one (user, agent, run).
	AgentID     string
	RunID       string
	Text        string
	Metadata    Metadata
	Categories  []string
	State       State
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ContentHash string
	// ExpiresAt is when the memory stops existing: from that instant no
	// read returns it, and the retention sweeper erases it (issue 16).
	// Zero means never.
	ExpiresAt time.Time
	// ObservedAt is when the memory was said or observed (issue 18):
	// settable on add and import, CreatedAt when not given, never zero
	// once normalised. ValidFrom and ValidTo bound when the fact held,
	// [ValidFrom, ValidTo); zero means unbounded. Superseding a memory
	// closes its ValidTo. Plaintext, like CreatedAt: never sealed.
	ObservedAt time.Time
	ValidFrom  time.Time
	ValidTo    time.Time
}

// Expired reports whether m has expired at now.
func (m Memory) Expired(now time.Time) bool {
	return !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt)
}

// Tenant returns the memory's owner.
func (m Memory) Tenant() Tenant { return Tenant{OrgID: m.OrgID, UserID: m.UserID} }

// ContentHash is the hex SHA-256 of the text; exact duplicates share it.
func ContentHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// ValidateText enforces: valid UTF-8, no NUL, 1 byte to 64 KiB, not only
// whitespace.
func ValidateText(text string) error {
	switch {
	case len(text) == 0 || strings.TrimSpace(text) == "":
		return Invalid("text", "must not be empty")
	case len(text) > MaxTextBytes:
		return Invalid("text", "must be at most %d bytes, got %d", MaxTextBytes, len(text))
	case !utf8.ValidString(text):
		return Invalid("text", "must be valid UTF-8")
	case strings.IndexByte(text, 0) >= 0:
		return Invalid("text", "must not contain NUL bytes")
	}
	return nil
}

// NormalizeMetadata checks that md is a JSON object of at most 16 KiB whose
// keys are non-empty, valid UTF-8 without NUL, and returns it with values in
// canonical JSON types so that it round-trips through every store unchanged.
// A nil map becomes an empty one.
func NormalizeMetadata(md Metadata) (Metadata, error) {
	if len(md) == 0 {
		return Metadata{}, nil // nothing to check, and the common case
	}
	raw, err := json.Marshal(md)
	if err != nil {
		return nil, Invalid("metadata", "must be JSON-encodable: %v", err)
	}
	if len(raw) > MaxMetadataBytes {
		return nil, Invalid("metadata", "must be at most %d bytes of JSON, got %d", MaxMetadataBytes, len(raw))
	}
	for k := range md {
		if k == "" || !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 || len(k) > 256 {
			return nil, Invalid("metadata", "keys must be 1-256 bytes of UTF-8 without NUL")
		}
	}
	if strings.Contains(string(raw), `\u0000`) {
		return nil, Invalid("metadata", "must not contain NUL characters")
	}
	var out Metadata
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, Invalid("metadata", "must be a JSON object: %v", err)
	}
	return out, nil
}

var categoryPattern = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} _.:/-]*$`)

// NormalizeCategories trims, lower-cases and de-duplicates labels, keeping
// their first-seen order, and refuses more than 32 or any longer than 64 bytes.
func NormalizeCategories(cats []string) ([]string, error) {
	if len(cats) > MaxCategories {
		return nil, Invalid("categories", "at most %d labels, got %d", MaxCategories, len(cats))
	}
	out := make([]string, 0, len(cats))
	seen := make(map[string]bool, len(cats))
	for i, c := range cats {
		c = strings.ToLower(strings.TrimSpace(c))
		if c == "" || len(c) > MaxCategoryLen || !utf8.ValidString(c) || !categoryPattern.MatchString(c) {
			return nil, Invalid(fmt.Sprintf("categories[%d]", i), "must be 1-%d bytes of letters, digits, space and _.:/-", MaxCategoryLen)
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// NewMemory validates its inputs and returns an active memory with a fresh id.
func NewMemory(t Tenant, app AppID, text string, md Metadata, cats []string, now time.Time) (Memory, error) {
	if err := t.Validate(); err != nil {
		return Memory{}, err
	}
	m := Memory{
		ID: NewMemoryID(now), OrgID: t.OrgID, UserID: t.UserID, AppID: app,
		Text: text, Metadata: md, Categories: cats, State: StateActive,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
	}
	if err := m.Normalize(); err != nil {
		return Memory{}, err
	}
	return m, nil
}

// Normalize validates every field, canonicalises metadata and categories and
// recomputes the content hash. Stores call it before writing.
func (m *Memory) Normalize() error {
	if !ValidID(string(m.ID)) {
		return Invalid("id", "must be a lower-case UUID")
	}
	if err := m.Tenant().Validate(); err != nil {
		return err
	}
	if err := ValidateAppID(m.AppID); err != nil {
		return err
	}
	if err := ValidateScopeID("agent_id", m.AgentID); err != nil {
		return err
	}
	if err := ValidateScopeID("run_id", m.RunID); err != nil {
		return err
	}
	if err := ValidateText(m.Text); err != nil {
		return err
	}
	md, err := NormalizeMetadata(m.Metadata)
	if err != nil {
		return err
	}
	cats, err := NormalizeCategories(m.Categories)
	if err != nil {
		return err
	}
	if _, err := ParseState(string(m.State)); err != nil {
		return err
	}
	if err := m.normalizeTimes(); err != nil {
		return err
	}
	m.Metadata, m.Categories = md, cats
	m.ContentHash = ContentHash(m.Text)
	return nil
}
