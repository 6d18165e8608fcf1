package httpapi

import (
	"time"

	"github.com/engram-memory/engram/domain"
)

// The JSON shapes of the API. They are separate from the domain types so
// that a field renamed in Go never silently renames one on the wire, and so
// the tenant (org_id, user_id) is never echoed back: the caller knows it.

type memoryView struct {
	ID         domain.MemoryID `json:"id"`
	Text       string          `json:"text"`
	App        domain.AppID    `json:"app"`
	AgentID    string          `json:"agent_id,omitempty"`
	RunID      string          `json:"run_id,omitempty"`
	Metadata   domain.Metadata `json:"metadata"`
	Categories []string        `json:"categories"`
	State      domain.State    `json:"state"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	ExpiresAt  *time.Time      `json:"expires_at,omitempty"`
	// Issue 18: when the memory was said (always present) and when its
	// fact held (each absent when unbounded).
	ObservedAt time.Time  `json:"observed_at"`
	ValidFrom  *time.Time `json:"valid_from,omitempty"`
	ValidTo    *time.Time `json:"valid_to,omitempty"`
}

func viewMemory(m domain.Memory) memoryView {
	md := m.Metadata
	if md == nil {
		md = domain.Metadata{}
	}
	cats := m.Categories
	if cats == nil {
		cats = []string{}
	}
	v := memoryView{
		ID: m.ID, Text: m.Text, App: m.AppID, AgentID: m.AgentID, RunID: m.RunID, Metadata: md, Categories: cats, State: m.State,
		CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(), ObservedAt: m.ObservedAt.UTC(),
	}
	if v.ObservedAt.IsZero() {
		v.ObservedAt = v.CreatedAt
	}
	if !m.ExpiresAt.IsZero() {
		at := m.ExpiresAt.UTC()
		v.ExpiresAt = &at
	}
	if !m.ValidFrom.IsZero() {
		at := m.ValidFrom.UTC()
		v.ValidFrom = &at
	}
	if !m.ValidTo.IsZero() {
		at := m.ValidTo.UTC()
		v.ValidTo = &at
	}
	return v
}

func viewMemories(ms []domain.Memory) []memoryView {
	out := make([]memoryView, len(ms))
	for i, m := range ms {
		out[i] = viewMemory(m)
	}
	return out
}

type pageView struct {
	Items      []memoryView `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

func viewPage(p domain.Page) pageView {
	return pageView{Items: viewMemories(p.Items), NextCursor: cursorOrNull(p.NextCursor)}
}

// cursorOrNull makes the last page's cursor an explicit null, so clients
// loop on "while next_cursor != null" without caring about empty strings.
func cursorOrNull(c string) *string {
	if c == "" {
		return nil
	}
	return &c
}

type valuesView struct {
	Text       string          `json:"text"`
	Metadata   domain.Metadata `json:"metadata"`
	Categories []string        `json:"categories"`
	State      domain.State    `json:"state"`
}

func viewValues(v *domain.MemoryValues) *valuesView {
	if v == nil {
		return nil
	}
	mv := viewMemory(domain.Memory{Metadata: v.Metadata, Categories: v.Categories})
	return &valuesView{Text: v.Text, Metadata: mv.Metadata, Categories: mv.Categories, State: v.State}
}

type changeView struct {
	Seq       int64             `json:"seq"`
	MemoryID  domain.MemoryID   `json:"memory_id"`
	Kind      domain.ChangeKind `json:"kind"`
	Old       *valuesView       `json:"old"`
	New       *valuesView       `json:"new"`
	App       domain.AppID      `json:"app"`
	ChangedAt time.Time         `json:"changed_at"`
}

func viewChanges(cs []domain.MemoryChange) []changeView {
	out := make([]changeView, len(cs))
	for i, c := range cs {
		out[i] = changeView{
			Seq: c.Seq, MemoryID: c.MemoryID, Kind: c.Kind, Old: viewValues(c.Old), New: viewValues(c.New),
			App: c.ActorApp, ChangedAt: c.ChangedAt.UTC(),
		}
	}
	return out
}

type appView struct {
	ID          domain.AppID `json:"id"`
	Description string       `json:"description"`
	IsActive    bool         `json:"is_active"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	// MemoryCount is present only when the token also has stats:read,
	// because it is read from the stats use case.
	MemoryCount *int `json:"memory_count,omitempty"`
	// AccessedCount (same condition) counts the memories the app read.
	AccessedCount *int `json:"accessed_count,omitempty"`
}

func viewApp(a domain.App, st *domain.Stats) appView {
	v := appView{ID: a.ID, Description: a.Description, IsActive: a.Active, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if st != nil {
		n, r := st.ByApp[a.ID], st.Accessed[a.ID]
		v.MemoryCount, v.AccessedCount = &n, &r
	}
	return v
}

type accessView struct {
	MemoryID   domain.MemoryID   `json:"memory_id"`
	Kind       domain.AccessKind `json:"kind"`
	AccessedAt time.Time         `json:"accessed_at"`
}

type statsView struct {
	Total   int                  `json:"total"`
	ByState map[domain.State]int `json:"by_state"`
	ByApp   map[domain.AppID]int `json:"by_app"`
	Apps    int                  `json:"apps"`
	// ByCategory, ByDay (UTC YYYY-MM-DD of creation) and AccessedByApp
	// come from the same cached counts (domain.Stats).
	ByCategory    map[string]int       `json:"by_category"`
	ByDay         map[string]int       `json:"by_day"`
	AccessedByApp map[domain.AppID]int `json:"accessed_by_app"`
}

func viewStats(st domain.Stats) statsView {
	v := statsView{Total: st.Total, ByState: st.ByState, ByApp: st.ByApp, Apps: st.Apps,
		ByCategory: orEmpty(st.ByCategory), ByDay: orEmpty(st.ByDay), AccessedByApp: orEmpty(st.Accessed)}
	if v.ByState == nil {
		v.ByState = map[domain.State]int{}
	}
	if v.ByApp == nil {
		v.ByApp = map[domain.AppID]int{}
	}
	return v
}

func orEmpty[K comparable](m map[K]int) map[K]int {
	if m == nil {
		return map[K]int{}
	}
	return m
}
