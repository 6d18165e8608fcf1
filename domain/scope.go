package domain

import (
	"unicode"
	"unicode/utf8"
)

// MaxScopeIDBytes bounds an agent_id or a run_id. mem0's ids are
// user-chosen strings ("travel-agent", a UUID, a session key); 128 bytes
// hold every one of those and keep the indexes that cover them small.
const MaxScopeIDBytes = 128

// ValidateScopeID checks an optional agent_id or run_id: empty (no scope)
// or 1-128 bytes of UTF-8 without control characters, so that it prints in
// logs and a filter compares it byte for byte in every store.
func ValidateScopeID(field, s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxScopeIDBytes || !utf8.ValidString(s) {
		return Invalid(field, "must be 1-%d bytes of UTF-8", MaxScopeIDBytes)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Invalid(field, "must not contain control characters")
		}
	}
	return nil
}
