package contracttest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// whereCases hold every store to the filter language's meaning,
// domain.Filter.Eval: a list with ListQuery.Where returns exactly the
// memories Eval accepts, newest first, and pages through them exactly.
func whereCases() []memoryCase {
	return []memoryCase{
		{"Filter/SelectsWhatEvalAccepts", testFilterMatchesEval},
		{"Filter/PagesExactly", testFilterPages},
	}
}

// filterCorpus writes memories that differ in every field a filter reads.
func filterCorpus(t *testing.T, s ports.MemoryStore, tn domain.Tenant) []domain.Memory {
	t.Helper()
	specs := []struct {
		app, agent, run, text string
		md                    domain.Metadata
		cats                  []string
	}{
		{"cursor", "planner", "r1", "Green tea at 7", domain.Metadata{"kind": "habit", "n": 3, "ok": true, "tag": "Morning"}, []string{"food", "habit"}},
		{"cursor", "planner", "r2", "Deploys on Friday", domain.Metadata{"kind": "work", "n": 10.5, "ok": false}, []string{"work"}},
		{"claude", "critic", "r1", "Allergic to peanuts", domain.Metadata{"kind": "health", "n": -1, "tag": "morning sickness"}, []string{"health", "food"}},
		{"claude", "", "", "Lives in Lyon", domain.Metadata{"kind": "fact", "n": "3", "city": "Lyon"}, nil},
		{"mem0", "planner", "", "Prefers dark mode", domain.Metadata{"nested": map[string]any{"kind": "x"}, "n": 3.0}, []string{"ui"}},
		{"mem0", "critic", "r2", "ÉTÉ in Paris", domain.Metadata{"kind": "Été", "ok": true}, []string{"travel"}},
	}
	out := make([]domain.Memory, len(specs))
	for i, sp := range specs {
		m, err := domain.NewMemory(tn, domain.AppID(sp.app), sp.text, sp.md, sp.cats, time.Now())
		require.NoError(t, err)
		m.AgentID, m.RunID = sp.agent, sp.run
		out[i] = mustCreate(t, s, m)
		time.Sleep(2 * time.Millisecond) // distinct created_at at microsecond precision
	}
	// One updated memory, so updated_at differs from created_at.
	upd, err := s.Update(ctxFor(t), tn, out[1].ID, "cursor", func(m *domain.Memory) error { m.Text = "Deploys on Thursday"; return nil })
	require.NoError(t, err)
	out[1] = upd
	return out
}

// filterTexts are filters as clients send them; %s is replaced by the
// creation time of the corpus' third memory.
var filterTexts = []string{
	`{"agent_id": "planner"}`,
	`{"agent_id": "*"}`,
	`{"run_id": {"in": ["r1", "r9"]}}`,
	`{"run_id": {"nin": ["r1"]}}`,
	`{"agent_id": {"ne": "planner"}}`,
	`{"app_id": {"contains": "ur"}}`,
	`{"app_id": {"icontains": "CLAU"}}`,
	`{"OR": [{"agent_id": "critic"}, {"categories": {"contains": "ui"}}]}`,
	`{"NOT": {"categories": {"in": ["food", "travel"]}}}`,
	`{"NOT": [{"agent_id": "planner"}, {"run_id": "r1"}]}`,
	`{"AND": [{"metadata.kind": "habit"}, {"OR": [{"metadata": {"n": {"gte": 3}}}, {"NOT": {"app_id": "cursor"}}]}]}`,
	`{"metadata": {"n": {"gt": 0, "lt": 11}}}`,
	`{"metadata": {"n": 3}}`,
	`{"metadata": {"n": "3"}}`,
	`{"metadata": {"n": {"ne": 3}}}`,
	`{"metadata": {"n": {"in": [3, "3", -1]}}}`,
	`{"metadata": {"ok": true}}`,
	`{"metadata": {"ok": {"ne": true}}}`,
	`{"metadata": {"tag": {"icontains": "MORNING"}}}`,
	`{"metadata": {"tag": {"contains": "Morn"}}}`,
	`{"metadata": {"kind": {"icontains": "été"}}}`,
	`{"metadata": {"kind": {"gte": "h", "lt": "w"}}}`,
	`{"metadata.kind": {"nin": ["work", "fact"]}}`,
	`{"metadata.nested": {"eq": "x"}}`,
	`{"categories": "food"}`,
	`{"categories": {"nin": ["food"]}}`,
	`{"created_at": {"gte": "%s"}}`,
	`{"created_at": {"lt": "%s"}}`,
	`{"created_at": {"eq": "%s"}}`,
	`{"updated_at": {"gt": "%s"}}`,
	`{"created_at": {"gte": "2000-01-01"}, "agent_id": "critic"}`,
	`{"OR": [{"NOT": {"OR": [{"run_id": "r1"}, {"run_id": "r2"}]}}, {"metadata": {"city": {"icontains": "YON"}}}]}`,
}

func parseFilterText(t *testing.T, text string) domain.Filter {
	t.Helper()
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &raw), text)
	f, err := domain.ParseFilter(raw)
	require.NoError(t, err, text)
	return f
}

func testFilterMatchesEval(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	corpus := filterCorpus(t, s, tn)
	other := newTenant(t) // a neighbour whose memories no filter may reach
	filterCorpus(t, s, other)
	at := corpus[2].CreatedAt.UTC().Format(time.RFC3339Nano)
	for _, text := range filterTexts {
		if slices.Contains([]byte(text), '%') {
			text = fmt.Sprintf(text, at)
		}
		f := parseFilterText(t, text)
		var want []domain.Memory
		for _, m := range corpus {
			if f.Eval(m) {
				want = append(want, m)
			}
		}
		var got []domain.MemoryID
		for _, m := range listAll(t, s, tn, domain.ListQuery{Where: &f}) {
			got = append(got, m.ID)
		}
		wantIDs := newestFirst(want)
		if len(wantIDs) == 0 {
			wantIDs = nil
		}
		require.Equal(t, wantIDs, got, "filter %s", text)
	}
	// The filters that select something select different things: the test
	// cannot pass with a store that ignores Where.
	f := parseFilterText(t, `{"agent_id": "planner"}`)
	require.Len(t, listAll(t, s, tn, domain.ListQuery{Where: &f}), 3)
}

func testFilterPages(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	var want []domain.Memory
	for i := range 25 {
		m := memOf(t, tn, "app", fmt.Sprintf("memory %d", i))
		m.AgentID = []string{"a", "b", "c"}[i%3]
		m = mustCreate(t, s, m)
		if m.AgentID != "b" {
			want = append(want, m)
		}
	}
	f := parseFilterText(t, `{"OR": [{"agent_id": "a"}, {"NOT": {"agent_id": {"in": ["b"]}}}]}`)
	q := domain.ListQuery{Where: &f, Limit: 4}
	require.NoError(t, q.Validate())
	var got []domain.MemoryID
	for pages := 0; pages < 20; pages++ {
		page, err := s.List(ctxFor(t), tn, q)
		require.NoError(t, err)
		got = append(got, idsOf(page.Items)...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
		// A memory added mid-walk is newer than the cursor: never seen.
		extra := memOf(t, tn, "app", fmt.Sprintf("late %d", pages))
		extra.AgentID = "a"
		mustCreate(t, s, extra)
	}
	require.Equal(t, newestFirst(want), got)
}
