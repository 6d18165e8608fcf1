package contracttest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func listCases() []memoryCase {
	return []memoryCase{
		{"List/Filters", testListFilters},
		{"List/TextContainsIsLiteral", testListTextContains},
		{"List/CreatedRange", testListCreatedRange},
		{"List/PaginationReturnsEveryRowOnce", testListPagination},
		{"List/OldestFirstPagesInCreationOrder", testListOldestFirst},
		{"List/PaginationExactUnderInserts", testListPaginationUnderInserts},
	}
}

func testListFilters(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	mk := func(app domain.AppID, text string, md domain.Metadata, cats ...string) domain.Memory {
		m, err := domain.NewMemory(tn, app, text, md, cats, time.Now())
		require.NoError(t, err)
		return mustCreate(t, s, m)
	}
	m0 := mk("cursor", "string one", domain.Metadata{"v": "1", "lang": "go"}, "work")
	m1 := mk("cursor", "number one", domain.Metadata{"v": 1, "lang": "go"}, "work", "code")
	m2 := mk("claude", "bool true", domain.Metadata{"v": true, "lang": "rust"}, "personal")
	m3 := mk("claude", "bool false", domain.Metadata{"v": false}, "code")
	m4 := mk("claude", "float", domain.Metadata{"v": 1.5, "nested": map[string]any{"v": 1}})
	m5 := mk("claude", "zero and empty", domain.Metadata{"v": 0, "e": ""})
	_, err := s.SetState(ctxFor(t), tn, []domain.MemoryID{m3.ID}, domain.StatePaused, "claude")
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctxFor(t), tn, []domain.MemoryID{m5.ID}, "claude"))

	ids := func(ms ...domain.Memory) []domain.MemoryID { return newestFirst(ms) }
	for i, c := range []struct {
		q    domain.ListQuery
		want []domain.MemoryID
	}{
		{domain.ListQuery{}, ids(m0, m1, m2, m3, m4)},
		{domain.ListQuery{App: "cursor"}, ids(m0, m1)},
		{domain.ListQuery{App: "nobody"}, nil},
		{domain.ListQuery{States: []domain.State{domain.StatePaused}}, ids(m3)},
		{domain.ListQuery{States: []domain.State{domain.StateActive, domain.StateDeleted}}, ids(m0, m1, m2, m4, m5)},
		{domain.ListQuery{Categories: []string{"code"}}, ids(m1, m3)},
		{domain.ListQuery{Categories: []string{"Work", "personal"}}, ids(m0, m1, m2)},
		{domain.ListQuery{Categories: []string{"none"}}, nil},
		{domain.ListQuery{Metadata: domain.Metadata{"v": "1"}}, ids(m0)},
		{domain.ListQuery{Metadata: domain.Metadata{"v": 1.0}}, ids(m1)},
		{domain.ListQuery{Metadata: domain.Metadata{"v": 1}}, ids(m1)},
		{domain.ListQuery{Metadata: domain.Metadata{"v": 1.5}}, ids(m4)},
		{domain.ListQuery{Metadata: domain.Metadata{"v": true}}, ids(m2)},
		{domain.ListQuery{Metadata: domain.Metadata{"v": false}}, ids(m3)},
		{domain.ListQuery{Metadata: domain.Metadata{"v": 0.0}, States: allStates()}, ids(m5)},
		{domain.ListQuery{Metadata: domain.Metadata{"e": ""}, States: allStates()}, ids(m5)},
		{domain.ListQuery{Metadata: domain.Metadata{"lang": "go", "v": 1.0}}, ids(m1)},
		{domain.ListQuery{Metadata: domain.Metadata{"lang": "rust", "v": 1.0}}, nil},
		{domain.ListQuery{Metadata: domain.Metadata{"missing": "x"}}, nil},
		{domain.ListQuery{App: "claude", Categories: []string{"code"}, Metadata: domain.Metadata{"v": false}, States: []domain.State{domain.StatePaused}}, ids(m3)},
		{domain.ListQuery{IDs: []domain.MemoryID{m4.ID, m0.ID, m5.ID}}, ids(m0, m4)},
		{domain.ListQuery{IDs: []domain.MemoryID{m1.ID}, App: "claude"}, nil},
	} {
		q := c.q
		require.NoError(t, q.Validate(), "case %d", i)
		got := idsOf(listAll(t, s, tn, q))
		if len(c.want) == 0 {
			require.Empty(t, got, "case %d: %+v", i, c.q)
			continue
		}
		require.Equal(t, c.want, got, "case %d: %+v", i, c.q)
	}
	page, err := s.List(ctxFor(t), tn, domain.ListQuery{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, ids(m0, m1, m2, m3, m4)[:2], idsOf(page.Items))
	require.NotEmpty(t, page.NextCursor)
	requireSameMemory(t, m4, page.Items[0])
}

func testListTextContains(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "app",
		"I am 100% sure", "I am 100 sure", "uses snake_case names", "uses snakeXcase names",
		`path C:\temp\x`, "path C:temp", "Ünïcödé Straße", "MiXeD CaSe Text", "apostrophe's 'quoted'")
	for _, c := range []struct {
		needle string
		want   []domain.Memory
	}{
		{"100%", ms[0:1]},
		{"%", ms[0:1]},
		{"e_c", ms[2:3]},
		{"_", ms[2:3]},
		{`:\t`, ms[4:5]},
		{`\`, ms[4:5]},
		{"mixed case", ms[7:8]},
		{"Straße", ms[6:7]},
		{"'quoted'", ms[8:9]},
		{"sure", ms[0:2]},
		{"no such text", nil},
	} {
		got := idsOf(listAll(t, s, tn, domain.ListQuery{TextContains: c.needle}))
		if len(c.want) == 0 {
			require.Empty(t, got, "needle %q", c.needle)
			continue
		}
		require.Equal(t, newestFirst(c.want), got, "needle %q", c.needle)
	}
}

func testListCreatedRange(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var ms []domain.Memory
	for i := range 4 {
		m, err := domain.NewMemory(tn, "app", fmt.Sprintf("at +%d min", 10*i), nil, nil, base.Add(time.Duration(10*i)*time.Minute))
		require.NoError(t, err)
		ms = append(ms, mustCreate(t, s, m))
	}
	between := func(a, b time.Duration) domain.ListQuery {
		q := domain.ListQuery{}
		if a >= 0 {
			q.CreatedAfter = base.Add(a)
		}
		if b >= 0 {
			q.CreatedBefore = base.Add(b)
		}
		return q
	}
	require.Equal(t, newestFirst(ms[1:3]), idsOf(listAll(t, s, tn, between(5*time.Minute, 25*time.Minute))))
	require.Equal(t, newestFirst(ms[2:]), idsOf(listAll(t, s, tn, between(15*time.Minute, -1))))
	require.Equal(t, newestFirst(ms[:1]), idsOf(listAll(t, s, tn, between(-1, 5*time.Minute))))
	require.Empty(t, listAll(t, s, tn, between(31*time.Minute, -1)))
}

func testListPagination(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "app", numberedTexts(23)...)
	for _, limit := range []int{1, 5, 23, 50} {
		got := idsOf(listAll(t, s, tn, domain.ListQuery{Limit: limit}))
		require.Equal(t, newestFirst(ms), got, "limit %d", limit)
	}
	page, err := s.List(ctxFor(t), tn, domain.ListQuery{Limit: 5})
	require.NoError(t, err)
	require.Len(t, page.Items, 5)
	// A cursor keeps working with filters that exclude its own row.
	_, err = s.SetState(ctxFor(t), tn, []domain.MemoryID{page.Items[4].ID}, domain.StateArchived, "app")
	require.NoError(t, err)
	next, err := s.List(ctxFor(t), tn, domain.ListQuery{Limit: 5, Cursor: page.NextCursor, States: []domain.State{domain.StateActive}})
	require.NoError(t, err)
	require.Equal(t, newestFirst(ms)[5:10], idsOf(next.Items))
}

// numberedTexts returns n distinct texts, "memory number 0" first.
func numberedTexts(n int) []string {
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("memory number %d", i)
	}
	return texts
}

// testListOldestFirst: OldestFirst pages through every row once, oldest
// first, with filters applied, and a bad order is domain.ErrInvalid.
func testListOldestFirst(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "app", numberedTexts(12)...)
	for _, limit := range []int{1, 5, 12, 50} {
		got := idsOf(listAll(t, s, tn, domain.ListQuery{Limit: limit, Order: domain.OldestFirst}))
		require.Equal(t, idsOf(ms), got, "limit %d", limit)
	}
	_, err := s.SetState(ctxFor(t), tn, []domain.MemoryID{ms[1].ID, ms[4].ID}, domain.StateArchived, "app")
	require.NoError(t, err)
	got := idsOf(listAll(t, s, tn, domain.ListQuery{Limit: 2, Order: domain.OldestFirst, States: []domain.State{domain.StateActive}}))
	want := idsOf(append(append([]domain.Memory{ms[0]}, ms[2:4]...), ms[5:]...))
	require.Equal(t, want, got)
	q := domain.ListQuery{Order: "sideways"}
	require.ErrorIs(t, q.Validate(), domain.ErrInvalid)
}

// testListPaginationUnderInserts pages with a small limit while another
// goroutine keeps inserting: every row that existed before paging began is
// seen exactly once and no row is ever seen twice.
func testListPaginationUnderInserts(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	texts := make([]string, 60)
	for i := range texts {
		texts[i] = fmt.Sprintf("pre-existing %d", i)
	}
	pre := createTexts(t, s, tn, "app", texts...)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var insertErr error
	inserted := 0
	// started is closed after the writer's first insert, or when it gives up.
	started := make(chan struct{})
	var once sync.Once
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer once.Do(func() { close(started) })
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m, err := domain.NewMemory(tn, "app", fmt.Sprintf("inserted while paging %d", i), nil, nil, time.Now())
			if err == nil {
				_, _, err = s.Create(ctxFor(t), tn, m)
			}
			if err != nil {
				insertErr = err
				return
			}
			inserted++
			once.Do(func() { close(started) })
		}
	}()
	// Page only once the writer is demonstrably running, so that a slow
	// first insert on a loaded machine cannot make the race vacuous.
	<-started

	seen := map[domain.MemoryID]int{}
	q := domain.ListQuery{Limit: 7}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000)
		page, err := s.List(ctxFor(t), tn, q)
		require.NoError(t, err)
		for _, m := range page.Items {
			seen[m.ID]++
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
		time.Sleep(time.Millisecond) // let the writer interleave
	}
	close(stop)
	wg.Wait()
	require.NoError(t, insertErr)
	require.Positive(t, inserted, "the writer never ran")
	for id, n := range seen {
		require.Equal(t, 1, n, "row %s seen %d times", id, n)
	}
	for _, m := range pre {
		require.Equal(t, 1, seen[m.ID], "pre-existing row %s missed", m.ID)
	}
}
