package mcpserver

import (
	"time"

	"github.com/engram-memory/engram/domain"
)

// memoryOut is a memory as tools return it; the same field names as the REST
// API so a model that saw one recognises the other.
type memoryOut struct {
	ID         string         `json:"id"`
	Text       string         `json:"text"`
	App        string         `json:"app"`
	AgentID    string         `json:"agent_id,omitempty"`
	RunID      string         `json:"run_id,omitempty"`
	Metadata   map[string]any `json:"metadata"`
	Categories []string       `json:"categories"`
	State      string         `json:"state"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	ExpiresAt  *time.Time     `json:"expires_at,omitempty" jsonschema:"when the memory expires; absent when it never does"`
	ObservedAt time.Time      `json:"observed_at" jsonschema:"when the memory was said; its creation unless given"`
	ValidFrom  *time.Time     `json:"valid_from,omitempty" jsonschema:"when its fact started to hold; absent when unbounded"`
	ValidTo    *time.Time     `json:"valid_to,omitempty" jsonschema:"when its fact stopped holding (set when superseded); absent when it still holds"`
}

func toMemoryOut(m domain.Memory) memoryOut {
	md := map[string]any(m.Metadata)
	if md == nil {
		md = map[string]any{}
	}
	cats := m.Categories
	if cats == nil {
		cats = []string{}
	}
	out := memoryOut{
		ID: string(m.ID), Text: m.Text, App: string(m.AppID), AgentID: m.AgentID, RunID: m.RunID, Metadata: md, Categories: cats,
		State: string(m.State), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, ObservedAt: m.ObservedAt.UTC(),
	}
	if out.ObservedAt.IsZero() {
		out.ObservedAt = m.CreatedAt.UTC()
	}
	if !m.ExpiresAt.IsZero() {
		at := m.ExpiresAt.UTC()
		out.ExpiresAt = &at
	}
	if !m.ValidFrom.IsZero() {
		at := m.ValidFrom.UTC()
		out.ValidFrom = &at
	}
	if !m.ValidTo.IsZero() {
		at := m.ValidTo.UTC()
		out.ValidTo = &at
	}
	return out
}

type addInput struct {
	Text       string         `json:"text" jsonschema:"The fact to remember: one self-contained statement in plain language, e.g. 'Prefers window seats on long flights'. Up to 64 KiB."`
	App        string         `json:"app,omitempty" jsonschema:"Optional app (client) to file the memory under, e.g. cursor. Leave empty to use the calling client."`
	Metadata   map[string]any `json:"metadata,omitempty" jsonschema:"Optional JSON object of extra facts about the memory (source, confidence, ...). Filterable by exact value."`
	Categories []string       `json:"categories,omitempty" jsonschema:"Optional labels such as 'preferences' or 'work'; at most 32, each up to 64 characters."`
	Infer      *bool          `json:"infer,omitempty" jsonschema:"true: when the server has a model, extract facts from the text and reconcile them with the user's memories (add, update, supersede or nothing), answering the changes; without a model, or when false or absent, the text is stored as given."`
	AgentID    string         `json:"agent_id,omitempty" jsonschema:"Optional agent scope beside the user (mem0's agent_id), up to 128 bytes."`
	RunID      string         `json:"run_id,omitempty" jsonschema:"Optional run or session scope (mem0's run_id), up to 128 bytes."`
	TTL        *int64         `json:"ttl,omitempty" jsonschema:"Optional seconds the memory lives; 0 means never (overriding the app's default). Use for facts that go stale, e.g. 86400 for 'is travelling this week'."`
	ExpiresAt  *time.Time     `json:"expires_at,omitempty" jsonschema:"Optional RFC 3339 instant the memory expires at; not with ttl."`
	ObservedAt *time.Time     `json:"observed_at,omitempty" jsonschema:"Optional RFC 3339 instant the fact was said or observed, when earlier than now (e.g. from an old conversation); default now."`
}

type addOutput struct {
	Memory  *memoryOut `json:"memory,omitempty" jsonschema:"The memory stored (absent when infer ran: see changes)."`
	Created bool       `json:"created" jsonschema:"false when an identical active memory already existed and was returned instead"`
	// Changes are what inference did, when infer was true and the server
	// has a model.
	Changes []domain.InferenceChange `json:"changes,omitempty" jsonschema:"With infer: each fact's outcome (event add, update, supersede or none; memory_id; previous_memory_id for a supersede; text)."`
}

type searchFilters struct {
	App           string         `json:"app,omitempty" jsonschema:"Only memories written by this app."`
	Categories    []string       `json:"categories,omitempty" jsonschema:"Only memories carrying every one of these labels."`
	Metadata      map[string]any `json:"metadata,omitempty" jsonschema:"Only memories whose metadata has each key equal to the given string, number or boolean."`
	CreatedAfter  *time.Time     `json:"created_after,omitempty" jsonschema:"Only memories created at or after this RFC 3339 time."`
	CreatedBefore *time.Time     `json:"created_before,omitempty" jsonschema:"Only memories created before this RFC 3339 time."`
	// Time (issue 18).
	ObservedAfter  *time.Time `json:"observed_after,omitempty" jsonschema:"Only memories said (observed_at) at or after this RFC 3339 time."`
	ObservedBefore *time.Time `json:"observed_before,omitempty" jsonschema:"Only memories said before this RFC 3339 time."`
	AsOf           *time.Time `json:"as_of,omitempty" jsonschema:"What was believed at this RFC 3339 time: memories said by then whose validity (valid_from, valid_to) holds then."`
	AgentID        string     `json:"agent_id,omitempty" jsonschema:"Only memories of this agent scope."`
	RunID          string     `json:"run_id,omitempty" jsonschema:"Only memories of this run scope."`
}

type searchInput struct {
	Query         string         `json:"query" jsonschema:"What to look for, in natural language or keywords, e.g. 'travel seat preference'."`
	Limit         *int           `json:"limit,omitempty" jsonschema:"How many memories to return, 1-100; default 10."`
	Filters       *searchFilters `json:"filters,omitempty" jsonschema:"Optional restrictions on which memories may match."`
	MinSimilarity float64        `json:"min_similarity,omitempty" jsonschema:"Drop results whose similarity is below this, 0-1."`
}

type searchResult struct {
	memoryOut
	Score      float64 `json:"score" jsonschema:"relevance; higher is better, comparable only within one search"`
	Similarity float64 `json:"similarity" jsonschema:"how similar the memory is to the query, 0-1, comparable across searches (embedding cosine, or the share of query words the memory holds)"`
}

type searchOutput struct {
	Results  []searchResult `json:"results"`
	QueryID  string         `json:"query_id,omitempty" jsonschema:"identifies this search for relevance feedback"`
	Degraded []string       `json:"degraded,omitempty" jsonschema:"rankings left out because their index was unavailable (lexical, vector); results may be less complete"`
}

type listInput struct {
	Limit   *int   `json:"limit,omitempty" jsonschema:"Page size, 1-200; default 50."`
	Cursor  string `json:"cursor,omitempty" jsonschema:"The next_cursor of the previous page, to continue listing."`
	App     string `json:"app,omitempty" jsonschema:"Only memories written by this app."`
	State   string `json:"state,omitempty" jsonschema:"Only memories in this state: active, paused, archived or deleted. Default: every state except deleted."`
	AgentID string `json:"agent_id,omitempty" jsonschema:"Only memories of this agent scope."`
	RunID   string `json:"run_id,omitempty" jsonschema:"Only memories of this run scope."`
}

type listOutput struct {
	Items      []memoryOut `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty" jsonschema:"pass as cursor to get the next page; absent on the last page"`
}

type idInput struct {
	ID string `json:"id" jsonschema:"The memory id (a UUID) as returned by add_memories, search_memory or list_memories."`
}

type updateInput struct {
	ID       string          `json:"id" jsonschema:"The memory id (a UUID) to change."`
	Text     *string         `json:"text,omitempty" jsonschema:"The corrected statement; replaces the old text."`
	Metadata *map[string]any `json:"metadata,omitempty" jsonschema:"A JSON object that replaces the memory's metadata."`
}

type deleteInput struct {
	IDs []string `json:"ids,omitempty" jsonschema:"The ids of the memories to delete, 1-1000. All or nothing: if one is unknown, none is deleted."`
	// MemoryIDs is OpenMemory's name for ids; both lists are joined.
	MemoryIDs []string `json:"memory_ids,omitempty" jsonschema:"Another name for ids (OpenMemory's)."`
}

type deleteAllInput struct {
	Confirm bool `json:"confirm,omitempty" jsonschema:"Must be true on /mcp. Only set it when the user explicitly asked to forget everything. OpenMemory-style URLs (/mcp/{client}/sse/{user}) do not ask for it, as OpenMemory never did."`
}

type deleteOutput struct {
	Deleted int `json:"deleted" jsonschema:"how many memories were deleted"`
}
