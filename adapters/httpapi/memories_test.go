package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoryLifecycle(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, backend func(*envOptions)) {
		e := newEnv(t, backend)
		alice := e.user("acme", "alice")

		rec := alice.do(http.MethodPost, "/api/v1/memories", map[string]any{
			"text": "prefers tea over coffee", "app": "cursor",
			"metadata": map[string]any{"source": "chat", "n": 2}, "categories": []string{"Food", "food", "drinks"},
		})
		m := decode[memoryJSON](t, rec, http.StatusCreated)
		require.Equal(t, "/api/v1/memories/"+m.ID, rec.Header().Get("Location"))
		require.Equal(t, "prefers tea over coffee", m.Text)
		require.Equal(t, "cursor", m.App)
		require.Equal(t, map[string]any{"source": "chat", "n": float64(2)}, m.Metadata)
		require.Equal(t, []string{"food", "drinks"}, m.Categories)
		require.Equal(t, "active", m.State)
		require.False(t, m.CreatedAt.IsZero())

		// An exact duplicate answers 200 with the existing memory.
		dup := decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "prefers tea over coffee"}), http.StatusOK)
		require.Equal(t, m.ID, dup.ID)

		got := decode[memoryJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID, nil), http.StatusOK)
		require.Equal(t, m.ID, got.ID)
		require.Equal(t, m.Text, got.Text)

		upd := decode[memoryJSON](t, alice.do(http.MethodPatch, "/api/v1/memories/"+m.ID, map[string]any{"text": "prefers green tea"}), http.StatusOK)
		require.Equal(t, "prefers green tea", upd.Text)
		require.Equal(t, []string{"food", "drinks"}, upd.Categories, "absent fields are kept")

		hist := decode[struct {
			Items []struct {
				Kind string         `json:"kind"`
				Old  map[string]any `json:"old"`
				New  map[string]any `json:"new"`
				App  string         `json:"app"`
			} `json:"items"`
		}](t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID+"/history", nil), http.StatusOK)
		require.Len(t, hist.Items, 2)
		require.Equal(t, "add", hist.Items[0].Kind)
		require.Nil(t, hist.Items[0].Old)
		require.Equal(t, "update", hist.Items[1].Kind)
		require.Equal(t, "prefers tea over coffee", hist.Items[1].Old["text"])
		require.Equal(t, "prefers green tea", hist.Items[1].New["text"])

		rec = alice.do(http.MethodDelete, "/api/v1/memories/"+m.ID, nil)
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		require.Empty(t, rec.Body.String())
		// Deleted is a soft delete: still readable by id, gone from the list.
		require.Equal(t, "deleted", decode[memoryJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID, nil), http.StatusOK).State)
		require.Empty(t, decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK).Items)
		// Updating a deleted memory conflicts.
		requireProblem(t, alice.do(http.MethodPatch, "/api/v1/memories/"+m.ID, map[string]any{"text": "x"}), http.StatusConflict)
	})
}

func TestListPaginatesAndFilters(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, backend func(*envOptions)) {
		e := newEnv(t, backend)
		alice := e.user("acme", "alice")
		var ids []string
		for i := range 5 {
			ids = append(ids, alice.add(fmt.Sprintf("fact number %d", i)).ID)
		}
		other := decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "from the cli", "app": "cli", "categories": []string{"work"}}), http.StatusCreated)

		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10, "pagination does not end")
			target := "/api/v1/memories?limit=2"
			if cursor != "" {
				target += "&cursor=" + url.QueryEscape(cursor)
			}
			p := decode[pageJSON](t, alice.do(http.MethodGet, target, nil), http.StatusOK)
			require.LessOrEqual(t, len(p.Items), 2)
			for _, m := range p.Items {
				seen = append(seen, m.ID)
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		require.Equal(t, []string{other.ID, ids[4], ids[3], ids[2], ids[1], ids[0]}, seen, "newest first, each once")

		// order=oldest pages the other way; a bad order, or an order with a
		// search, is 400 naming it.
		seen, cursor = nil, ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10, "pagination does not end")
			target := "/api/v1/memories?limit=4&order=oldest"
			if cursor != "" {
				target += "&cursor=" + url.QueryEscape(cursor)
			}
			p := decode[pageJSON](t, alice.do(http.MethodGet, target, nil), http.StatusOK)
			for _, m := range p.Items {
				seen = append(seen, m.ID)
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		require.Equal(t, []string{ids[0], ids[1], ids[2], ids[3], ids[4], other.ID}, seen, "oldest first, each once")
		for _, target := range []string{"/api/v1/memories?order=sideways", "/api/v1/memories?q=fact&order=oldest"} {
			res := alice.do(http.MethodGet, target, nil)
			require.Equal(t, http.StatusBadRequest, res.Code, target)
			require.Contains(t, res.Body.String(), "order", target)
		}

		p := decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?app=cli", nil), http.StatusOK)
		require.Len(t, p.Items, 1)
		require.Equal(t, other.ID, p.Items[0].ID)
		p = decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?category=work", nil), http.StatusOK)
		require.Len(t, p.Items, 1)

		decode[map[string]any](t, alice.do(http.MethodPost, "/api/v1/memories/bulk-state", map[string]any{"ids": ids[:2], "state": "archived"}), http.StatusOK)
		p = decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?state=archived", nil), http.StatusOK)
		require.Len(t, p.Items, 2)
		p = decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?state=active&state=archived&limit=200", nil), http.StatusOK)
		require.Len(t, p.Items, 6)
	})
}

func TestListLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.user("acme", "alice")
	for _, q := range []string{"limit=1000000", "limit=0", "limit=-1", "limit=201", "limit=ten", "state=gone", "state=active,archived", "cursor=not-a-cursor", "app=Not%20A%20Slug"} {
		t.Run(q, func(t *testing.T) {
			p := requireProblem(t, alice.do(http.MethodGet, "/api/v1/memories?"+q, nil), http.StatusBadRequest)
			field, _, _ := strings.Cut(q, "=")
			require.Len(t, p.Errors, 1)
			require.Equal(t, field, p.Errors[0].Field)
		})
	}
	decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?limit=200", nil), http.StatusOK)
	decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?limit=1", nil), http.StatusOK)
}

func TestBulkRoutes(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, backend func(*envOptions)) {
		e := newEnv(t, backend)
		alice := e.user("acme", "alice")
		a, b := alice.add("one thing"), alice.add("another thing")

		st := decode[pageJSON](t, alice.do(http.MethodPost, "/api/v1/memories/bulk-state", map[string]any{"ids": []string{a.ID, b.ID}, "state": "paused"}), http.StatusOK)
		require.Len(t, st.Items, 2)
		for _, m := range st.Items {
			require.Equal(t, "paused", m.State)
		}
		requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories/bulk-state", map[string]any{"ids": []string{a.ID}, "state": "deleted"}), http.StatusBadRequest)
		requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories/bulk-state", map[string]any{"ids": []string{a.ID}}), http.StatusBadRequest)
		requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories/bulk-delete", map[string]any{"ids": []string{}}), http.StatusBadRequest)

		del := decode[map[string]int](t, alice.do(http.MethodPost, "/api/v1/memories/bulk-delete", map[string]any{"ids": []string{a.ID, b.ID, a.ID}}), http.StatusOK)
		require.Equal(t, 2, del["deleted"])
		for _, id := range []string{a.ID, b.ID} {
			require.Equal(t, "deleted", decode[memoryJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+id, nil), http.StatusOK).State)
		}
	})
}

// TestCrossTenantIsNotFound: another org's memory, and another user's in the
// same org, cannot be read, changed or deleted, and look like no memory.
func TestCrossTenantIsNotFound(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, backend func(*envOptions)) {
		e := newEnv(t, backend)
		alice := e.user("acme", "alice")
		m := alice.add("alice's secret")
		for name, intruder := range map[string]caller{
			"other org":  e.user("evil", "alice"),
			"other user": e.user("acme", "mallory"),
		} {
			t.Run(name, func(t *testing.T) {
				requireProblem(t, intruder.do(http.MethodGet, "/api/v1/memories/"+m.ID, nil), http.StatusNotFound)
				requireProblem(t, intruder.do(http.MethodPatch, "/api/v1/memories/"+m.ID, map[string]any{"text": "pwned"}), http.StatusNotFound)
				requireProblem(t, intruder.do(http.MethodDelete, "/api/v1/memories/"+m.ID, nil), http.StatusNotFound)
				requireProblem(t, intruder.do(http.MethodGet, "/api/v1/memories/"+m.ID+"/history", nil), http.StatusNotFound)
				requireProblem(t, intruder.do(http.MethodPost, "/api/v1/memories/bulk-delete", map[string]any{"ids": []string{m.ID}}), http.StatusNotFound)
				requireProblem(t, intruder.do(http.MethodPost, "/api/v1/memories/bulk-state", map[string]any{"ids": []string{m.ID}, "state": "paused"}), http.StatusNotFound)
				require.Empty(t, decode[pageJSON](t, intruder.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK).Items)
			})
		}
		// Nothing the intruders tried changed the memory.
		got := decode[memoryJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID, nil), http.StatusOK)
		require.Equal(t, "alice's secret", got.Text)
		require.Equal(t, "active", got.State)
	})
}

func TestMemoryIDMustBeUUID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := requireProblem(t, e.user("acme", "alice").do(http.MethodGet, "/api/v1/memories/not-an-id", nil), http.StatusBadRequest)
	require.Equal(t, "id", p.Errors[0].Field)
}
