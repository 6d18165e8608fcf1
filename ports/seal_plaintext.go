package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// PlaintextSealer seals, in place, the values a store keeps sealed that
// were written while encryption was off (or before the column was sealed):
// `engram keys seal` (docs/privacy.md, "Turning encryption on for an
// existing store"). Without it such rows stay plaintext until rewritten,
// and an erasure's destruction of the data key does not reach backups of
// them.
//
// SealPlaintext walks every row of every sealed column, across orgs and
// users, batch rows at a time, each batch in its own transaction (so an
// interrupted run keeps what it committed, and a rerun resumes by skipping
// what is sealed). It seals the plaintext values with the row's user's
// data key, creating the key when the user has none; a sealed value is
// never sealed again. A memory's content hash becomes the keyed one
// (DataKey.Hash) unless an active memory of the same scope already holds
// that hash (an exact duplicate written while hashes differed): that row
// keeps its plain hash and is counted as Kept. Rows are not versioned, no
// history entry is written and updated_at stays: the content is unchanged.
// The text index's copy of the words is derived data and is left as is,
// except its content hash, which follows the memory's so the entry does
// not read as drift.
//
// progress, when not nil, is called after each batch with the table's
// running counts. It returns one count per table, in the order walked.
// It refuses (domain.ErrInvalid) when the store has no key-encryption key
// or encryption is off. Backend failures wrap domain.ErrUnavailable.
type PlaintextSealer interface {
	SealPlaintext(ctx context.Context, batch int, progress func(SealCount)) ([]SealCount, error)
}

// SealCount is what SealPlaintext did to one table.
type SealCount struct {
	Table string
	// Read counts the rows examined; Sealed those rewritten with at least
	// one value sealed; Rehashed the memories whose plain content hash
	// became the keyed one; Kept the memories that keep a plain hash (see
	// PlaintextSealer); Skipped the rows left as they were because their
	// user's data key is gone (an erasure under way) or a sealed value did
	// not open.
	Read, Sealed, Rehashed, Kept, Skipped int
}

// SealPlain returns a stored text value sealed with dk for row and field,
// and true, when it is plaintext; a sealed or empty value is returned as
// is, with false.
func SealPlain(dk *DataKey, row, field, stored string) (string, bool) {
	if stored == "" || Sealed(stored) {
		return stored, false
	}
	return dk.Seal(row, field, stored), true
}

// SealPlainMetadata returns a stored metadata object (JSON) with every
// plaintext top-level value sealed as SealMetadata seals it, and true when
// any was; sealed values are kept as they are. The values are sealed from
// their stored JSON, so numbers keep their digits.
func SealPlainMetadata(dk *DataKey, row string, raw []byte) ([]byte, bool, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return raw, false, nil
	}
	var md map[string]json.RawMessage
	if err := json.Unmarshal(raw, &md); err != nil {
		return nil, false, fmt.Errorf("metadata of %s: %w", row, err)
	}
	changed := false
	for k, v := range md {
		var s string
		if json.Unmarshal(v, &s) == nil && Sealed(s) {
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, v); err != nil {
			return nil, false, fmt.Errorf("metadata %q of %s: %w", k, row, err)
		}
		sealed, err := json.Marshal(dk.Seal(row, MetadataField(k), compact.String()))
		if err != nil {
			return nil, false, err
		}
		md[k], changed = sealed, true
	}
	if !changed {
		return raw, false, nil
	}
	out, err := json.Marshal(md)
	return out, true, err
}

// SealPlainSnapshot returns a stored history snapshot (the JSON of
// memory_changes.old_values or new_values, of the memory row) with its
// plaintext text and metadata values sealed as the memory's own are, and
// true when any was. Other fields (categories, state) stay as stored.
func SealPlainSnapshot(dk *DataKey, row string, raw []byte) ([]byte, bool, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return raw, false, nil
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false, fmt.Errorf("history snapshot of %s: %w", row, err)
	}
	changed := false
	for _, f := range historySealedFields {
		var s string
		if json.Unmarshal(v[f], &s) != nil {
			continue
		}
		if sealed, ok := SealPlain(dk, row, f, s); ok {
			enc, err := json.Marshal(sealed)
			if err != nil {
				return nil, false, err
			}
			v[f], changed = enc, true
		}
	}
	if md, ok := v["metadata"]; ok {
		sealed, c, err := SealPlainMetadata(dk, row, md)
		if err != nil {
			return nil, false, err
		}
		if c {
			v["metadata"], changed = sealed, true
		}
	}
	if !changed {
		return raw, false, nil
	}
	out, err := json.Marshal(v)
	return out, true, err
}
