package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// pageSize is one page of the memories table: the API pages by keyset, so
// a page costs the same at 1M memories as at 100.
const pageSize = 50

type memoryItem struct {
	ID         string         `json:"id"`
	Text       string         `json:"text"`
	App        string         `json:"app"`
	Metadata   map[string]any `json:"metadata"`
	Categories []string       `json:"categories"`
	State      string         `json:"state"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	ExpiresAt  *time.Time     `json:"expires_at"`
}

type memoryPage struct {
	Items      []memoryItem `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

type appItem struct {
	ID          string    `json:"id"`
	Description string    `json:"description"`
	IsActive    bool      `json:"is_active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	MemoryCount *int      `json:"memory_count"`
	// AccessedCount: memories the app read (created vs accessed).
	AccessedCount *int `json:"accessed_count"`
}

type filters struct {
	Q, App, Category, State, From, To string
	// Sort is the list's order: "" (newest first) or "oldest"; a search is
	// ranked by relevance instead.
	Sort string
}

type listData struct {
	filters
	Items    []memoryItem
	Next     string // URL of the next page, empty on the last
	Apps     []appItem
	States   []string
	Searched bool
	Return   string // this page's URL, for the bulk form
	Add      struct{ Text, App, Categories string }
}

var dateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func filtersOf(q url.Values) filters {
	return filters{Q: strings.TrimSpace(q.Get("q")), App: q.Get("app"), Category: strings.TrimSpace(q.Get("category")),
		State: q.Get("state"), From: q.Get("from"), To: q.Get("to"), Sort: q.Get("sort")}
}

// apiQuery turns the page's filters into the API's list or search query.
func (f filters) apiQuery(cursor string) (url.Values, *problem) {
	v := url.Values{"limit": {itoa(pageSize)}}
	if f.App != "" {
		v.Set("app", f.App)
	}
	if f.Category != "" {
		v.Set("category", f.Category)
	}
	var dates []map[string]any
	for _, d := range []struct{ name, val, op, suffix string }{{"from", f.From, "gte", "T00:00:00Z"}, {"to", f.To, "lte", "T23:59:59Z"}} {
		if d.val == "" {
			continue
		}
		if !dateRe.MatchString(d.val) {
			return nil, &problem{Title: "Invalid filter", Status: http.StatusBadRequest, Detail: d.name + " must be a date (YYYY-MM-DD)"}
		}
		dates = append(dates, map[string]any{"created_at": map[string]any{d.op: d.val + d.suffix}})
	}
	switch len(dates) {
	case 1:
		raw, _ := json.Marshal(dates[0])
		v.Set("filters", string(raw))
	case 2:
		raw, _ := json.Marshal(map[string]any{"AND": dates})
		v.Set("filters", string(raw))
	}
	if f.Q != "" {
		v.Set("q", f.Q)
		return v, nil
	}
	if f.State != "" {
		v.Set("state", f.State)
	}
	switch f.Sort {
	case "", "newest":
	case "oldest":
		v.Set("order", "oldest")
	default:
		return nil, &problem{Title: "Invalid filter", Status: http.StatusBadRequest, Detail: "sort must be newest or oldest"}
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return v, nil
}

func (x *Dashboard) memoriesPage(w http.ResponseWriter, r *http.Request, s *session) {
	x.renderMemories(w, r, s, nil, listData{})
}

func (x *Dashboard) renderMemories(w http.ResponseWriter, r *http.Request, s *session, fail *problem, d listData) {
	q := r.URL.Query()
	d.filters = filtersOf(q)
	d.States = []string{"active", "paused", "archived", "deleted"}
	d.Return = r.URL.RequestURI()
	if r.Method != http.MethodGet {
		d.Return = Prefix
	}
	var apps struct {
		Items []appItem `json:"items"`
	}
	// The filter needs the apps' names only: without counts the API neither
	// flushes the access log nor reads the tallies on every page view.
	if p := x.api(r, s, http.MethodGet, "/apps?counts=false", nil, &apps); p != nil && fail == nil {
		fail = p
	}
	d.Apps = apps.Items
	v, p := d.filters.apiQuery(q.Get("cursor"))
	if p == nil {
		var page memoryPage
		p = x.api(r, s, http.MethodGet, "/memories?"+v.Encode(), nil, &page)
		d.Items, d.Searched = page.Items, d.Q != ""
		if page.NextCursor != nil && d.Q == "" {
			next := url.Values{}
			for k, val := range map[string]string{"app": d.App, "category": d.Category, "state": d.State, "from": d.From, "to": d.To, "sort": d.Sort} {
				if val != "" {
					next.Set(k, val)
				}
			}
			next.Set("cursor", *page.NextCursor)
			d.Next = Prefix + "?" + next.Encode()
		}
	}
	if fail == nil {
		fail = p
	}
	x.render(w, r, s, http.StatusOK, "memories", view{Title: "Memories", Nav: "memories", Notice: noticeOf(r), Error: fail, Data: d})
}

func splitCategories(s string) []string {
	out := []string{}
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func (x *Dashboard) addMemory(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	body := map[string]any{"text": f.Get("text"), "categories": splitCategories(f.Get("categories"))}
	if a := strings.TrimSpace(f.Get("app")); a != "" {
		body["app"] = a
	}
	var m memoryItem
	if p := x.api(r, s, http.MethodPost, "/memories", body, &m); p != nil {
		d := listData{}
		d.Add.Text, d.Add.App, d.Add.Categories = f.Get("text"), f.Get("app"), f.Get("categories")
		x.renderMemories(w, r, s, p, d)
		return
	}
	back(w, r, Prefix+"memories/"+m.ID, "Memory added.")
}

// bulkMemories pauses, archives, activates or deletes the checked
// memories in one all-or-nothing API call.
func (x *Dashboard) bulkMemories(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	ids := f["id"]
	ret := safeNext(f.Get("return"))
	if len(ids) == 0 {
		x.render(w, r, s, http.StatusBadRequest, "error", view{Title: "Nothing selected", Error: &problem{Title: "Nothing selected",
			Status: http.StatusBadRequest, Detail: "Tick the memories to change first."}})
		return
	}
	var p *problem
	notice := "Memories changed."
	switch a := f.Get("action"); a {
	case "delete":
		p = x.api(r, s, http.MethodPost, "/memories/bulk-delete", map[string]any{"ids": ids}, nil)
		notice = "Memories deleted."
	case "active", "paused", "archived":
		p = x.api(r, s, http.MethodPost, "/memories/bulk-state", map[string]any{"ids": ids, "state": a}, nil)
	default:
		p = &problem{Title: "Unknown action", Status: http.StatusBadRequest, Detail: "choose pause, archive, activate or delete"}
	}
	if p != nil {
		x.render(w, r, s, http.StatusOK, "error", view{Title: "Not changed", Error: p})
		return
	}
	back(w, r, ret, notice)
}
