package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// foreign is an OpenMemory backup or a mem0 export, converted into native
// rows when detected: both are single JSON documents, which must be parsed
// whole anyway. Limits.MaxForeignJSON bounds them. Converted rows carry no
// tenant (the files' user ids mean nothing here); Import requires one and
// rewrites every row to it.
type foreign struct {
	format string
	sum    string
	member string // the file or zip member the rows came from, for errors
	rows   map[string][]ports.ArchiveRow
	lines  map[string][]int64 // per row, the item of the document it came from
}

func (f *foreign) kind() string { return f.format }
func (f *foreign) id() string   { return f.sum }
func (f *foreign) has(table string) bool {
	_, ok := f.rows[table]
	return ok
}

func (f *foreign) each(t ports.ArchiveTable, fn func(string, int64, ports.ArchiveRow) error) error {
	for i, r := range f.rows[t.Name] {
		// A copy: prepare rewrites values in place, and each runs twice.
		c := ports.ArchiveRow{Values: append([]any(nil), r.Values...), Extra: r.Extra}
		if err := fn(f.member, f.lines[t.Name][i], c); err != nil {
			return err
		}
	}
	return nil
}

// add appends a converted row of table that came from item line.
func (f *foreign) add(table string, line int64, vals ...any) {
	if f.rows == nil {
		f.rows, f.lines = map[string][]ports.ArchiveRow{}, map[string][]int64{}
	}
	f.rows[table] = append(f.rows[table], ports.ArchiveRow{Values: vals})
	f.lines[table] = append(f.lines[table], line)
}

// orNil is a nullable text column's value: nil for "".
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// placeholder tenant of converted rows; Import always rewrites it.
const foreignOrg, foreignUser = "imported", "imported"

// foreignMemory is what both formats give for one memory.
type foreignMemory struct {
	id, text, app, state string
	agent, run           string // mem0's scopes; "" is none
	metadata             map[string]any
	categories           []string
	created, updated     time.Time
}

// addMemory converts one memory: its row, and an add history entry at its
// creation time (the formats carry no content history) so that History is
// never empty; with synthState, a memory that is not active also gets the
// state entry that took it there, at its update time.
func (f *foreign) addMemory(line int64, m foreignMemory, synthState bool) error {
	md, err := json.Marshal(orEmpty(m.metadata))
	if err != nil {
		return &Error{Member: f.member, Line: line, Err: domain.Invalid("metadata", "%v", err)}
	}
	mdj, err := ports.CanonicalJSON(md)
	if err != nil {
		return &Error{Member: f.member, Line: line, Err: domain.Invalid("metadata", "%v", err)}
	}
	cats := normalizeForeignCategories(m.categories)
	catj, _ := json.Marshal(cats)
	if m.updated.IsZero() || m.updated.Before(m.created) {
		m.updated = m.created
	}
	f.add("memories", line, m.id, foreignOrg, foreignUser, m.app, m.text, mdj, json.RawMessage(catj), m.state,
		false, m.created, m.updated, orNil(m.agent), orNil(m.run), nil,
		// observed_at is left to default to created_at, when mem0 and
		// OpenMemory say the memory was made; no validity is known.
		nil, nil, nil)
	values, _ := json.Marshal(map[string]any{"text": m.text, "metadata": json.RawMessage(mdj), "categories": cats, "state": "active"})
	vj, _ := ports.CanonicalJSON(values)
	f.add("memory_history", line, m.id, foreignOrg, foreignUser, "add", nil, vj, m.app, m.created)
	if synthState && m.state != string(domain.StateActive) {
		nv, _ := json.Marshal(map[string]any{"text": m.text, "metadata": json.RawMessage(mdj), "categories": cats, "state": m.state})
		nvj, _ := ports.CanonicalJSON(nv)
		kind := domain.ChangeState
		if m.state == string(domain.StateDeleted) {
			kind = domain.ChangeDelete
		}
		f.add("memory_history", line, m.id, foreignOrg, foreignUser, string(kind), vj, nvj, m.app, m.updated)
	}
	return nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// normalizeForeignCategories lower-cases and de-duplicates; labels the
// domain would refuse are left to validation, which names them.
func normalizeForeignCategories(in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, c := range in {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// foreignID keeps an id that is already a lower-case UUID and otherwise
// derives one from it, deterministically, so that importing the same file
// twice finds the same rows.
func foreignID(format, id string) string {
	if l := strings.ToLower(id); domain.ValidID(l) {
		return l
	}
	sum := sha256.Sum256([]byte("engram-import:" + format + ":" + id))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-8" + h[13:16] + "-" + h[16:20] + "-" + h[20:32]
}

// foreignTime parses the times Python's isoformat and mem0 write: RFC 3339
// with or without a zone (no zone is read as UTC). Empty is the zero time.
func foreignTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", s)
}

// readLimited reads r whole, refusing more than limit bytes.
func readLimited(r io.Reader, limit int64, member string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, invalid(member, 0, "could not be read: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, invalid(member, 0, "larger than the limit of %d bytes", limit)
	}
	return b, nil
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
