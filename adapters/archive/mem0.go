package archive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
)

// mem0Memory is one memory as mem0's get_all and exports write it. Fields
// not listed here (hash, score, owner, organization, immutable, expiration
// date, graph entities and relations) are dropped: derived, or without an
// equivalent in Engram (docs/archive.md).
type mem0Memory struct {
	ID         string         `json:"id"`
	Memory     string         `json:"memory"`
	UserID     string         `json:"user_id"`
	AgentID    string         `json:"agent_id"`
	RunID      string         `json:"run_id"`
	AppID      string         `json:"app_id"`
	Metadata   map[string]any `json:"metadata"`
	Categories []string       `json:"categories"`
	CreatedAt  string         `json:"created_at"`
	UpdatedAt  string         `json:"updated_at"`
}

// mem0App is the app every mem0 memory lands under.
const mem0App = "mem0"

// parseMem0 recognises a mem0 export: a JSON array of memories, or an
// object holding one under "results" (get_all) or "memories".
func parseMem0(raw []byte, now time.Time) (*foreign, error) {
	const member = "mem0.json"
	trimmed := bytes.TrimSpace(raw)
	var items []json.RawMessage
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, invalid(member, 0, "not a JSON array of memories: %v", err)
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &doc); err != nil {
			return nil, invalid(member, 0, "not valid JSON: %v", err)
		}
		list, ok := doc["results"]
		if !ok {
			list, ok = doc["memories"]
		}
		if !ok {
			return nil, invalid(member, 0, "a JSON object without results or memories: not a mem0 export")
		}
		if err := json.Unmarshal(list, &items); err != nil {
			return nil, invalid(member, 0, "results is not an array of memories: %v", err)
		}
	default:
		return nil, &Error{Err: domain.Invalid("file", "not an Engram archive, an OpenMemory backup zip or a mem0 JSON export")}
	}
	f := &foreign{format: "mem0", sum: hashOf(raw), member: member}
	for i, item := range items {
		line := int64(i + 1)
		var m mem0Memory
		if err := json.Unmarshal(item, &m); err != nil {
			return nil, invalid(member, line, "not a mem0 memory: %v", err)
		}
		if m.ID == "" || m.Memory == "" {
			return nil, invalid(member, line, "a mem0 memory needs id and memory")
		}
		created, err := foreignTime(m.CreatedAt)
		if err != nil {
			return nil, invalid(member, line, "created_at: %v", err)
		}
		updated, err := foreignTime(m.UpdatedAt)
		if err != nil {
			return nil, invalid(member, line, "updated_at: %v", err)
		}
		if created.IsZero() {
			created = now.UTC().Truncate(time.Microsecond)
		}
		md := orEmpty(m.Metadata)
		// agent_id and run_id have columns; the user is the importer's
		// and the app is "mem0", so mem0's user and app ids stay in
		// metadata where a filter can still find them.
		for k, v := range map[string]string{"mem0_user_id": m.UserID, "mem0_app_id": m.AppID} {
			if v != "" {
				md[k] = v
			}
		}
		err = f.addMemory(line, foreignMemory{id: foreignID("mem0", m.ID), text: m.Memory, app: mem0App, agent: m.AgentID, run: m.RunID,
			state: string(domain.StateActive), metadata: md, categories: m.Categories, created: created, updated: updated}, false)
		if err != nil {
			return nil, err
		}
	}
	if len(items) > 0 {
		first := f.rows["memories"][0]
		f.add("apps", 1, foreignOrg, foreignUser, mem0App, "imported from mem0", true, first.Values[9], first.Values[9])
	}
	if f.rows == nil {
		return nil, fmt.Errorf("%w", invalid(member, 0, "holds no memories"))
	}
	return f, nil
}
