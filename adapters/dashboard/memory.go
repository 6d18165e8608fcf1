package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

type valuesItem struct {
	Text       string         `json:"text"`
	Metadata   map[string]any `json:"metadata"`
	Categories []string       `json:"categories"`
	State      string         `json:"state"`
}

type changeItem struct {
	Seq       int64       `json:"seq"`
	Kind      string      `json:"kind"`
	Old       *valuesItem `json:"old"`
	New       *valuesItem `json:"new"`
	App       string      `json:"app"`
	ChangedAt time.Time   `json:"changed_at"`
}

type accessItem struct {
	App        string    `json:"app"`
	Kind       string    `json:"kind"`
	AccessedAt time.Time `json:"accessed_at"`
}

type detailData struct {
	M          memoryItem
	Metadata   string
	Categories string
	History    []changeItem
	Accesses   []accessItem
	Similar    []memoryItem
	Return     string
	Edit       struct{ Text, Categories string }
}

// accessLimit bounds the detail page's access log (one entry per app).
const accessLimit = 50

func (x *Dashboard) memoryPage(w http.ResponseWriter, r *http.Request, s *session) {
	x.renderMemory(w, r, s, nil, nil)
}

func (x *Dashboard) renderMemory(w http.ResponseWriter, r *http.Request, s *session, fail *problem, edit *detailData) {
	id := r.PathValue("id")
	var d detailData
	if p := x.api(r, s, http.MethodGet, "/memories/"+url.PathEscape(id), nil, &d.M); p != nil {
		x.render(w, r, s, http.StatusOK, "error", view{Title: "Memory", Nav: "memories", Error: p})
		return
	}
	d.Return = Prefix + "memories/" + url.PathEscape(id)
	if len(d.M.Metadata) > 0 {
		raw, _ := json.MarshalIndent(d.M.Metadata, "", "  ")
		d.Metadata = string(raw)
	}
	d.Categories = joinComma(d.M.Categories)
	d.Edit.Text, d.Edit.Categories = d.M.Text, d.Categories
	if edit != nil {
		d.Edit = edit.Edit
	}
	var h struct {
		Items []changeItem `json:"items"`
	}
	if p := x.api(r, s, http.MethodGet, "/memories/"+url.PathEscape(id)+"/history", nil, &h); p != nil && fail == nil {
		fail = p
	}
	d.History = h.Items
	d.Accesses = x.accessesOf(r, s, id)
	if d.M.State == "active" {
		// Similar means near in meaning: the vector ranking alone. A hybrid
		// search with the memory's own text as the query always holds a word
		// only this memory has (a name, a number), and on PostgreSQL, where
		// the text index cannot be used under row-level security, finding
		// such a word reads every entry of the user (docs/benchmarks.md).
		var sim struct {
			Results []struct {
				Memory memoryItem `json:"memory"`
			} `json:"results"`
		}
		q := map[string]any{"query": firstRunes(d.M.Text, 300), "limit": 6, "mode": "vector"}
		if p := x.api(r, s, http.MethodPost, "/search", q, &sim); p == nil {
			for _, hit := range sim.Results {
				if hit.Memory.ID != d.M.ID && len(d.Similar) < 5 {
					d.Similar = append(d.Similar, hit.Memory)
				}
			}
		}
	}
	x.render(w, r, s, http.StatusOK, "memory", view{Title: "Memory", Nav: "memories", Notice: noticeOf(r), Error: fail, Data: d})
}

// accessesOf reads the memory's access log from the API: each app's
// latest read, most recent first (one bounded, indexed query).
func (x *Dashboard) accessesOf(r *http.Request, s *session, id string) []accessItem {
	var page struct {
		Items []accessItem `json:"items"`
	}
	if x.api(r, s, http.MethodGet, "/memories/"+url.PathEscape(id)+"/access?limit="+itoa(accessLimit), nil, &page) != nil {
		return nil
	}
	return page.Items
}

func (x *Dashboard) editMemory(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := r.PostForm
	text, cats := f.Get("text"), splitCategories(f.Get("categories"))
	if p := x.api(r, s, http.MethodPatch, "/memories/"+url.PathEscape(id), map[string]any{"text": text, "categories": cats}, nil); p != nil {
		d := &detailData{}
		d.Edit.Text, d.Edit.Categories = text, f.Get("categories")
		x.renderMemory(w, r, s, p, d)
		return
	}
	back(w, r, Prefix+"memories/"+url.PathEscape(id), "Memory saved.")
}
