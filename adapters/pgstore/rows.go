package pgstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
)

// memoryCols is the column list every memory read selects, in memoryRow's
// order. id is cast so that it scans into a string.
const memoryCols = `id::text AS id, org_id, user_id, app_id, text, metadata, categories, state, content_hash, created_at, updated_at, agent_id, run_id, expires_at, observed_at, valid_from, valid_to`

// liveSQL keeps memories that have not expired: every read of a memory
// adds it, so an expired memory is gone before the sweeper erases it.
const liveSQL = `(expires_at IS NULL OR expires_at > statement_timestamp())`

// expiryArg is a memory's expiry as a query argument: NULL for never.
func expiryArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// valuesJSON builds the history value object of a memories row in SQL, for
// the statements that write history without a round trip through Go. Its
// keys match historyValues.
const valuesJSON = `jsonb_build_object('text', text, 'metadata', metadata, 'categories', to_jsonb(categories), 'state', state)`

type memoryRow struct {
	ID          string         `db:"id"`
	OrgID       string         `db:"org_id"`
	UserID      string         `db:"user_id"`
	AppID       string         `db:"app_id"`
	Text        string         `db:"text"`
	Metadata    []byte         `db:"metadata"`
	Categories  pq.StringArray `db:"categories"`
	State       string         `db:"state"`
	ContentHash string         `db:"content_hash"`
	CreatedAt   time.Time      `db:"created_at"`
	UpdatedAt   time.Time      `db:"updated_at"`
	AgentID     string         `db:"agent_id"`
	RunID       string         `db:"run_id"`
	ExpiresAt   sql.NullTime   `db:"expires_at"`
	ObservedAt  sql.NullTime   `db:"observed_at"`
	ValidFrom   sql.NullTime   `db:"valid_from"`
	ValidTo     sql.NullTime   `db:"valid_to"`
}

func (r memoryRow) memory() (domain.Memory, error) {
	md := domain.Metadata{}
	if err := json.Unmarshal(r.Metadata, &md); err != nil {
		return domain.Memory{}, fmt.Errorf("decode metadata of %s: %w", r.ID, err)
	}
	cats := []string(r.Categories)
	if cats == nil {
		cats = []string{}
	}
	return domain.Memory{
		ID: domain.MemoryID(r.ID), OrgID: domain.OrgID(r.OrgID), UserID: domain.UserID(r.UserID),
		AppID: domain.AppID(r.AppID), AgentID: r.AgentID, RunID: r.RunID, Text: r.Text, Metadata: md, Categories: cats,
		State: domain.State(r.State), ContentHash: r.ContentHash,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), ExpiresAt: expiryOf(r.ExpiresAt),
		ObservedAt: observedOf(r.ObservedAt, r.CreatedAt), ValidFrom: expiryOf(r.ValidFrom), ValidTo: expiryOf(r.ValidTo),
	}, nil
}

func memories(rows []memoryRow) ([]domain.Memory, error) {
	out := make([]domain.Memory, 0, len(rows))
	for _, r := range rows {
		m, err := r.memory()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// historyValues is the JSON shape of memory_changes.old_values/new_values.
type historyValues struct {
	Text       string          `json:"text"`
	Metadata   domain.Metadata `json:"metadata"`
	Categories []string        `json:"categories"`
	State      domain.State    `json:"state"`
}

func valuesOf(m domain.Memory) historyValues {
	return historyValues{Text: m.Text, Metadata: m.Metadata, Categories: m.Categories, State: m.State}
}

// jsonOrNull encodes v, or returns nil (SQL NULL) for a nil pointer.
func jsonOrNull(v *historyValues) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func (h *historyValues) domain() *domain.MemoryValues {
	if h == nil {
		return nil
	}
	md := h.Metadata
	if md == nil {
		md = domain.Metadata{}
	}
	cats := h.Categories
	if cats == nil {
		cats = []string{}
	}
	return &domain.MemoryValues{Text: h.Text, Metadata: md, Categories: cats, State: h.State}
}

// uuidArray turns ids into a text[] parameter (cast to uuid[] in SQL),
// dropping ids that are not UUIDs: they cannot name a row, and a cast
// error would turn "not found" into "invalid".
func uuidArray(ids []domain.MemoryID) (pq.StringArray, int) {
	seen := make(map[domain.MemoryID]bool, len(ids))
	out := make(pq.StringArray, 0, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if domain.ValidID(string(id)) {
			out = append(out, string(id))
		}
	}
	return out, len(seen)
}

func expiryOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// observedOf reads observed_at, NOT NULL since migration 0431; a NULL
// (a row read through a path that does not select it) is created_at.
func observedOf(t sql.NullTime, created time.Time) time.Time {
	if !t.Valid {
		return created.UTC()
	}
	return t.Time.UTC()
}

// observedArg is a memory's observed_at as a query argument: created_at
// when it was never normalised with one.
func observedArg(m domain.Memory) time.Time {
	if m.ObservedAt.IsZero() {
		return m.CreatedAt.UTC()
	}
	return m.ObservedAt.UTC()
}
