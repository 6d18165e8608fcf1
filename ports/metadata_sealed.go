package ports

import (
	"encoding/json"
	"fmt"

	"github.com/engram-memory/engram/domain"
)

// Metadata is sealed value by value (docs/privacy.md, "Encryption at
// rest"): each top-level value is stored as the sealed JSON encoding of
// the value, a string beginning with SealedPrefix, and the keys stay
// readable. A sealed value is bound to its memory (the row id) and its key
// (the field), so it does not open under another key or memory. Stores
// seal every value of a memory with the key its text is sealed with, in
// the same write; the history snapshots hold the same sealed strings.

// MetadataField is the associated data's field name of metadata key k.
func MetadataField(k string) string { return "metadata:" + k }

// SealMetadata returns the stored form of a memory's metadata: every
// top-level value sealed with dk for the memory row, or md as is when dk is
// nil. With dk nil a string value that begins with SealedPrefix is refused
// (it would be read back as a sealed value), as sealed text is.
func SealMetadata(dk *DataKey, row string, md domain.Metadata) (domain.Metadata, error) {
	if dk == nil {
		for k, v := range md {
			if s, ok := v.(string); ok && Sealed(s) {
				return nil, domain.Invalid("metadata", "value of %q must not begin with the reserved prefix of sealed values", k)
			}
		}
		return md, nil
	}
	if md == nil {
		return nil, nil
	}
	out := make(domain.Metadata, len(md))
	for k, v := range md {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, domain.Invalid("metadata", "value of %q: %v", k, err)
		}
		out[k] = dk.Seal(row, MetadataField(k), string(raw))
	}
	return out, nil
}

// MetadataSealed reports whether any top-level value of md is sealed.
func MetadataSealed(md domain.Metadata) bool {
	for _, v := range md {
		if s, ok := v.(string); ok && Sealed(s) {
			return true
		}
	}
	return false
}

// OpenMetadata returns md with every sealed value opened with dk (the
// memory's row id as sealed); plaintext values pass unchanged, and md itself
// when nothing is sealed. dk may be nil only when nothing is sealed.
func OpenMetadata(dk *DataKey, row string, md domain.Metadata) (domain.Metadata, error) {
	if !MetadataSealed(md) {
		return md, nil
	}
	if dk == nil {
		return nil, fmt.Errorf("metadata of %s: %w", row, ErrKeyDestroyed)
	}
	out := make(domain.Metadata, len(md))
	for k, v := range md {
		s, ok := v.(string)
		if !ok || !Sealed(s) {
			out[k] = v
			continue
		}
		plain, err := dk.Open(row, MetadataField(k), s)
		if err != nil {
			return nil, err
		}
		var val any
		if err := json.Unmarshal([]byte(plain), &val); err != nil {
			return nil, fmt.Errorf("sealed metadata %q of %s: %w", k, row, err)
		}
		out[k] = val
	}
	return out, nil
}
