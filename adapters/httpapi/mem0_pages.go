package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// mem0Memory is a memory in mem0's shape: the text is "memory".
type mem0Memory struct {
	ID         string          `json:"id"`
	Memory     string          `json:"memory"`
	UserID     string          `json:"user_id"`
	AgentID    *string         `json:"agent_id"`
	RunID      *string         `json:"run_id"`
	AppID      string          `json:"app_id"`
	Metadata   domain.Metadata `json:"metadata"`
	Categories []string        `json:"categories"`
	Hash       string          `json:"hash"`
	// ExpirationDate is the last day the memory is returned, or null.
	ExpirationDate *string   `json:"expiration_date"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Score is the calibrated similarity, as mem0's score is one (and
	// threshold compares it); FusedScore is Engram's rank-fusion score,
	// by which results are ordered.
	Score      *float64 `json:"score,omitempty"`
	Similarity *float64 `json:"similarity,omitempty"`
	FusedScore *float64 `json:"fused_score,omitempty"`
}

func viewMem0(m domain.Memory) mem0Memory {
	cats := m.Categories
	if cats == nil {
		cats = []string{}
	}
	out := mem0Memory{
		ID: string(m.ID), Memory: m.Text, UserID: string(m.UserID), AppID: string(m.AppID), Metadata: m.Metadata,
		Categories: cats, Hash: m.ContentHash, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
		ExpirationDate: mem0ExpirationDate(m.ExpiresAt),
	}
	// mem0 answers null for a scope the memory does not have.
	if m.AgentID != "" {
		out.AgentID = &m.AgentID
	}
	if m.RunID != "" {
		out.RunID = &m.RunID
	}
	return out
}

// mem0ListCap bounds how many memories a page-numbered list walks to find
// its page and count; mem0's pages are numbered, Engram's are cursors.
const mem0ListCap = 10000

type mem0ListRequest struct {
	mem0Entity
	Filters     json.RawMessage `json:"filters"`
	ShowExpired *bool           `json:"show_expired"`
}

// listPost serves POST /v3/memories/ (always paged) and /v2/memories/
// (paged when page and page_size are given).
func (m *mem0) listPost(c echo.Context) error {
	var req mem0ListRequest
	if c.Request().ContentLength != 0 {
		if err := decodeMem0(c, &req); err != nil {
			return err
		}
	}
	if err := refuseShowExpired(req.ShowExpired); err != nil {
		return err
	}
	f, err := filtersFrom(req.Filters)
	if err != nil {
		return err
	}
	return m.list(c, req.mem0Entity, f, strings.HasPrefix(c.Path(), "/v3/"))
}

// listGet serves GET /v1/memories/?user_id=..., mem0 2.x's get_all.
func (m *mem0) listGet(c echo.Context) error {
	q := c.QueryParams()
	e := mem0Entity{UserID: q.Get("user_id"), AgentID: q.Get("agent_id"), RunID: q.Get("run_id"), AppID: q.Get("app_id"), OrgID: q.Get("org_id"), ProjectID: q.Get("project_id")}
	return m.list(c, e, mem0Filter{}, false)
}

func (m *mem0) list(c echo.Context, e mem0Entity, f mem0Filter, alwaysPaged bool) error {
	where, err := e.whereOf(f.Where)
	if err != nil {
		return err
	}
	p, err := m.actor(c, e, f)
	if err != nil {
		return err
	}
	page, size, paged, err := pageParams(c)
	if err != nil {
		return err
	}
	all, err := m.collect(c, p, domain.ListQuery{Where: where})
	if err != nil {
		return err
	}
	if !paged && !alwaysPaged {
		return c.JSON(http.StatusOK, all)
	}
	start := min((page-1)*size, len(all))
	end := min(start+size, len(all))
	body := map[string]any{"count": len(all), "results": all[start:end], "next": nil, "previous": nil}
	if end < len(all) {
		body["next"] = pageURL(c, page+1, size)
	}
	if page > 1 {
		body["previous"] = pageURL(c, page-1, size)
	}
	return c.JSON(http.StatusOK, body)
}

// collect walks every page of the caller's list, newest first, up to
// mem0ListCap memories.
func (m *mem0) collect(c echo.Context, p domain.Principal, q domain.ListQuery) ([]mem0Memory, error) {
	q.Limit = domain.MaxListLimit
	out := []mem0Memory{}
	for {
		pg, err := m.s.d.Memories.List(c.Request().Context(), p, q, "")
		if err != nil {
			return nil, err
		}
		for _, mem := range pg.Items {
			out = append(out, viewMem0(mem))
		}
		if pg.NextCursor == "" || len(out) >= mem0ListCap {
			return out, nil
		}
		q.Cursor = pg.NextCursor
	}
}

func pageParams(c echo.Context) (page, size int, paged bool, err error) {
	page, size = 1, 100
	for name, dst := range map[string]*int{"page": &page, "page_size": &size} {
		raw := c.QueryParam(name)
		if raw == "" {
			continue
		}
		paged = true
		n, perr := strconv.Atoi(raw)
		if perr != nil || n < 1 || n > mem0ListCap {
			return 0, 0, false, domain.Invalid(name, "must be an integer between 1 and %d", mem0ListCap)
		}
		*dst = n
	}
	return page, size, paged, nil
}

func pageURL(c echo.Context, page, size int) string {
	u := url.URL{Path: c.Request().URL.Path}
	q := c.Request().URL.Query()
	q.Set("page", strconv.Itoa(page))
	q.Set("page_size", strconv.Itoa(size))
	u.RawQuery = q.Encode()
	return u.String()
}

func memoryParam(c echo.Context) (domain.MemoryID, error) {
	return domain.ParseMemoryID(c.Param("id"))
}

func (m *mem0) get(c echo.Context) error {
	id, err := memoryParam(c)
	if err != nil {
		return err
	}
	p, err := m.principalForMemory(c, id)
	if err != nil {
		return err
	}
	mem, err := m.s.d.Memories.Get(c.Request().Context(), p, id, "")
	if err != nil {
		return err
	}
	if mem.State == domain.StateDeleted {
		// Engram keeps a deleted memory for its history; mem0 forgets it.
		return domain.ErrNotFound
	}
	return c.JSON(http.StatusOK, viewMem0(mem))
}

type mem0UpdateRequest struct {
	Text     *string          `json:"text"`
	Memory   *string          `json:"memory"`
	Metadata *domain.Metadata `json:"metadata"`
	// ExpirationDate sets the expiry; null removes it (mem0_dates.go).
	ExpirationDate json.RawMessage `json:"expiration_date"`
}

func (m *mem0) update(c echo.Context) error {
	id, err := memoryParam(c)
	if err != nil {
		return err
	}
	var req mem0UpdateRequest
	if err := decodeMem0(c, &req); err != nil {
		return err
	}
	if req.Text == nil {
		req.Text = req.Memory
	}
	p, err := m.principalForMemory(c, id)
	if err != nil {
		return err
	}
	in := app.UpdateInput{Text: req.Text, Metadata: req.Metadata}
	expiresAt, set, err := mem0ExpiryOf(req.ExpirationDate)
	if err != nil {
		return err
	}
	if set && expiresAt == nil {
		never := time.Duration(0) // a TTL of 0 removes the expiry
		in.TTL = &never
	}
	in.ExpiresAt = expiresAt
	mem, err := m.s.d.Memories.Update(c.Request().Context(), p, id, in, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewMem0(mem))
}

func (m *mem0) delete(c echo.Context) error {
	id, err := memoryParam(c)
	if err != nil {
		return err
	}
	p, err := m.principalForMemory(c, id)
	if err != nil {
		return err
	}
	if err := m.s.d.Memories.Delete(c.Request().Context(), p, []domain.MemoryID{id}, ""); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "Memory deleted successfully!"})
}

// deleteAll serves DELETE /v1/memories/?user_id=...: every memory of the
// user. It needs the user named (or the caller's own), never "everyone".
func (m *mem0) deleteAll(c echo.Context) error {
	q := c.QueryParams()
	e := mem0Entity{UserID: q.Get("user_id"), AgentID: q.Get("agent_id"), RunID: q.Get("run_id"), OrgID: q.Get("org_id"), ProjectID: q.Get("project_id")}
	where, err := e.whereOf(nil)
	if err != nil {
		return err
	}
	p, err := principalFor(c, e.UserID, e.OrgID, e.ProjectID)
	if err != nil {
		return err
	}
	var n int
	if where == nil {
		n, err = m.s.d.Memories.DeleteAll(c.Request().Context(), p, "")
	} else {
		n, err = m.deleteWhere(c, p, *where)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"message": "Memories deleted successfully!", "deleted": n})
}

// deleteWhere deletes the memories of one agent or run of the user, a page
// at a time (each page one all-or-nothing delete), up to mem0ListCap.
func (m *mem0) deleteWhere(c echo.Context, p domain.Principal, where domain.Filter) (int, error) {
	n := 0
	for n < mem0ListCap {
		pg, err := m.s.d.Memories.List(c.Request().Context(), p, domain.ListQuery{Where: &where, Limit: domain.MaxListLimit}, "")
		if err != nil || len(pg.Items) == 0 {
			return n, err
		}
		ids := make([]domain.MemoryID, len(pg.Items))
		for i, mem := range pg.Items {
			ids[i] = mem.ID
		}
		if err := m.s.d.Memories.Delete(c.Request().Context(), p, ids, ""); err != nil {
			return n, err
		}
		n += len(ids)
	}
	return n, nil
}

// mem0Change is a history entry in mem0's shape.
type mem0Change struct {
	ID        string          `json:"id"`
	MemoryID  string          `json:"memory_id"`
	UserID    string          `json:"user_id"`
	Event     string          `json:"event"`
	OldMemory *string         `json:"old_memory"`
	NewMemory *string         `json:"new_memory"`
	Metadata  domain.Metadata `json:"metadata"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

func (m *mem0) history(c echo.Context) error {
	id, err := memoryParam(c)
	if err != nil {
		return err
	}
	p, err := m.principalForMemory(c, id)
	if err != nil {
		return err
	}
	changes, err := m.s.d.Memories.History(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	out := make([]mem0Change, len(changes))
	for i, ch := range changes {
		e := mem0Change{ID: strconv.FormatInt(ch.Seq, 10), MemoryID: string(ch.MemoryID), UserID: string(p.UserID),
			Event: strings.ToUpper(string(ch.Kind)), CreatedAt: ch.ChangedAt, UpdatedAt: ch.ChangedAt}
		if ch.Old != nil {
			e.OldMemory = &ch.Old.Text
		}
		if ch.New != nil {
			e.NewMemory = &ch.New.Text
			e.Metadata = ch.New.Metadata
		}
		out[i] = e
	}
	return c.JSON(http.StatusOK, out)
}
