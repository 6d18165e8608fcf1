package archive

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// omBackup is OpenMemory's memories.json (POST /api/v1/backup/export).
// user and access_controls are read but not imported: the importing
// caller's token decides the tenant, and Engram's access model is scopes,
// not per-app rules (docs/archive.md).
type omBackup struct {
	Apps []struct {
		ID          string  `json:"id"`
		Name        string  `json:"name"`
		Description *string `json:"description"`
		IsActive    *bool   `json:"is_active"`
		CreatedAt   string  `json:"created_at"`
		UpdatedAt   string  `json:"updated_at"`
	} `json:"apps"`
	Categories []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"categories"`
	Memories         []omMemory `json:"memories"`
	MemoryCategories []struct {
		MemoryID   string `json:"memory_id"`
		CategoryID string `json:"category_id"`
	} `json:"memory_categories"`
	StatusHistory []struct {
		MemoryID  string `json:"memory_id"`
		OldState  string `json:"old_state"`
		NewState  string `json:"new_state"`
		ChangedAt string `json:"changed_at"`
	} `json:"status_history"`
}

type omMemory struct {
	ID          string         `json:"id"`
	AppID       *string        `json:"app_id"`
	Content     string         `json:"content"`
	Metadata    map[string]any `json:"metadata"`
	State       string         `json:"state"`
	CreatedAt   string         `json:"created_at"`
	UpdatedAt   string         `json:"updated_at"`
	CategoryIDs []string       `json:"category_ids"`
	// In memories.jsonl.gz lines: the app's and the categories' names.
	App        *string  `json:"app"`
	Categories []string `json:"categories"`
}

// omDefaultApp is where memories without an app land, as OpenMemory's own
// import does.
const omDefaultApp = "openmemory"

func parseOpenMemory(zr *zip.Reader, l Limits, now time.Time) (*foreign, error) {
	const member = "memories.json"
	var jsonl *zip.File
	var main *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case member:
			main = f
		case "memories.jsonl.gz":
			jsonl = f
		}
	}
	rc, err := main.Open()
	if err != nil {
		return nil, invalid(member, 0, "%v", err)
	}
	raw, err := readLimited(rc, l.MaxForeignJSON, member)
	_ = rc.Close()
	if err != nil {
		return nil, err
	}
	var b omBackup
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, invalid(member, 0, "not an OpenMemory backup: %v", err)
	}
	f := &foreign{format: "openmemory", sum: hashOf(raw), member: member}
	apps := map[string]domain.AppID{}
	for i, a := range b.Apps {
		id := domain.AppIDFromClientName(a.Name)
		apps[a.ID] = id
		created, err1 := foreignTime(a.CreatedAt)
		updated, err2 := foreignTime(a.UpdatedAt)
		if err := errors.Join(err1, err2); err != nil {
			return nil, invalid(member, int64(i+1), "apps: %v", err)
		}
		if created.IsZero() {
			created = now.UTC().Truncate(time.Microsecond)
		}
		if updated.Before(created) {
			updated = created
		}
		desc := ""
		if a.Description != nil {
			desc = *a.Description
		}
		f.add("apps", int64(i+1), foreignOrg, foreignUser, string(id), desc, a.IsActive == nil || *a.IsActive, created, updated)
	}
	catNames := map[string]string{}
	for _, c := range b.Categories {
		catNames[c.ID] = c.Name
	}
	linked := map[string][]string{}
	for _, mc := range b.MemoryCategories {
		if n, ok := catNames[mc.CategoryID]; ok {
			linked[mc.MemoryID] = append(linked[mc.MemoryID], n)
		}
	}
	history := map[string]bool{}
	for _, h := range b.StatusHistory {
		history[h.MemoryID] = true
	}
	memories := b.Memories
	if len(memories) == 0 && jsonl != nil {
		// An export whose relational part is empty: the per-memory lines
		// carry the same memories with app and category names.
		f.member = jsonl.Name
		if memories, err = readOMLines(jsonl, l); err != nil {
			return nil, err
		}
	}
	usedDefault := false
	for i, m := range memories {
		line := int64(i + 1)
		app := domain.AppID(omDefaultApp)
		switch {
		case m.AppID != nil && apps[*m.AppID] != "":
			app = apps[*m.AppID]
		case m.App != nil && *m.App != "":
			app = domain.AppIDFromClientName(*m.App)
		default:
			usedDefault = true
		}
		cats := append(slices.Clone(m.Categories), linked[m.ID]...)
		for _, id := range m.CategoryIDs {
			if n, ok := catNames[id]; ok {
				cats = append(cats, n)
			}
		}
		created, err1 := foreignTime(m.CreatedAt)
		updated, err2 := foreignTime(m.UpdatedAt)
		if err := errors.Join(err1, err2); err != nil {
			return nil, invalid(f.member, line, "%v", err)
		}
		if created.IsZero() {
			created = now.UTC().Truncate(time.Microsecond)
		}
		state := m.State
		if state == "" {
			state = string(domain.StateActive)
		}
		fm := foreignMemory{id: foreignID("openmemory", m.ID), text: m.Content, app: string(app), state: state,
			metadata: m.Metadata, categories: cats, created: created, updated: updated}
		if err := f.addMemory(line, fm, !history[m.ID]); err != nil {
			return nil, err
		}
	}
	if usedDefault {
		f.add("apps", 1, foreignOrg, foreignUser, omDefaultApp, "imported from OpenMemory", true, now.UTC().Truncate(time.Microsecond), now.UTC().Truncate(time.Microsecond))
	}
	return f, f.addStatusHistory(b, member)
}

// addStatusHistory turns OpenMemory's state changes into state (or delete)
// entries carrying the memory's content, which OpenMemory's history lacks.
func (f *foreign) addStatusHistory(b omBackup, member string) error {
	mems := map[string]int{}
	for i, r := range f.rows["memories"] {
		mems[r.Values[0].(string)] = i
	}
	for i, h := range b.StatusHistory {
		line := int64(i + 1)
		idx, ok := mems[foreignID("openmemory", h.MemoryID)]
		if !ok {
			continue // the history of a memory the export left out
		}
		at, err := foreignTime(h.ChangedAt)
		if err != nil || at.IsZero() {
			return invalid(member, line, "status_history changed_at: %v", err)
		}
		m := f.rows["memories"][idx].Values
		values := func(state string) json.RawMessage {
			raw, _ := json.Marshal(map[string]any{"text": m[4], "metadata": m[5], "categories": m[6], "state": state})
			c, _ := ports.CanonicalJSON(raw)
			return c
		}
		kind := domain.ChangeState
		if h.NewState == string(domain.StateDeleted) {
			kind = domain.ChangeDelete
		}
		f.add("memory_history", line, m[0], foreignOrg, foreignUser, string(kind), values(h.OldState), values(h.NewState), m[3], at)
	}
	return nil
}

func readOMLines(zf *zip.File, l Limits) ([]omMemory, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, invalid(zf.Name, 0, "%v", err)
	}
	defer rc.Close()
	gz, err := gzip.NewReader(io.LimitReader(rc, l.MaxForeignJSON))
	if err != nil {
		return nil, invalid(zf.Name, 0, "not gzip data: %v", err)
	}
	sc := bufio.NewScanner(io.LimitReader(gz, l.MaxForeignJSON))
	sc.Buffer(make([]byte, 64<<10), l.MaxLineBytes)
	var out []omMemory
	for n := int64(1); sc.Scan(); n++ {
		var m omMemory
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, invalid(zf.Name, n, "not a memory: %v", err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, invalid(zf.Name, int64(len(out)+1), "%v", err)
	}
	return out, nil
}
