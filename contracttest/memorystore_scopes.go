package contracttest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// scopeCases pin down mem0's agent and run scopes: stored and returned as
// given, filterable, never changed by Update, and part of what makes two
// memories exact duplicates.
func scopeCases() []memoryCase {
	return []memoryCase{
		{"Scopes/RoundTripAndFilter", testScopesRoundTrip},
		{"Scopes/DuplicatesAreScoped", testScopesDuplicates},
		{"Scopes/UpdateKeepsScopes", testScopesUpdate},
		{"Scopes/InvalidWritesNothing", testScopesInvalid},
	}
}

func scoped(t *testing.T, tn domain.Tenant, text, agent, run string) domain.Memory {
	t.Helper()
	m := memOf(t, tn, "app", text)
	m.AgentID, m.RunID = agent, run
	return m
}

func testScopesRoundTrip(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	a := mustCreate(t, s, scoped(t, tn, "planner run one", "planner", "run-1"))
	b := mustCreate(t, s, scoped(t, tn, "planner run two", "planner", "run-2"))
	c := mustCreate(t, s, scoped(t, tn, "critic, no run", "critic", ""))
	d := mustCreate(t, s, scoped(t, tn, "user level", "", ""))
	batch := []domain.Memory{scoped(t, tn, "batched ünïcode agent", "agent ✓", "r")}
	n, err := s.CreateBatch(ctxFor(t), tn, batch)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	got, err := s.Get(ctxFor(t), tn, a.ID)
	require.NoError(t, err)
	require.Equal(t, "planner", got.AgentID)
	require.Equal(t, "run-1", got.RunID)
	got, err = s.Get(ctxFor(t), tn, batch[0].ID)
	require.NoError(t, err)
	require.Equal(t, "agent ✓", got.AgentID)
	require.Equal(t, "r", got.RunID)
	got, err = s.Get(ctxFor(t), tn, d.ID)
	require.NoError(t, err)
	require.Empty(t, got.AgentID)
	require.Empty(t, got.RunID)

	ids := func(ms ...domain.Memory) []domain.MemoryID { return newestFirst(ms) }
	for _, c := range []struct {
		q    domain.ListQuery
		want []domain.MemoryID
	}{
		{domain.ListQuery{AgentID: "planner"}, ids(a, b)},
		{domain.ListQuery{AgentID: "planner", RunID: "run-2"}, ids(b)},
		{domain.ListQuery{RunID: "run-1"}, ids(a)},
		{domain.ListQuery{AgentID: "critic"}, ids(c)},
		{domain.ListQuery{AgentID: "Planner"}, nil}, // exact, case-sensitive
		{domain.ListQuery{AgentID: "nobody"}, nil},
	} {
		var gotIDs []domain.MemoryID
		for _, m := range listAll(t, s, tn, c.q) {
			gotIDs = append(gotIDs, m.ID)
		}
		require.Equal(t, c.want, gotIDs, "query %+v", c.q)
	}
}

func testScopesDuplicates(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	first := mustCreate(t, s, scoped(t, tn, "likes tea", "a1", ""))
	// The same text under another agent, another run or no agent is another memory.
	mustCreate(t, s, scoped(t, tn, "likes tea", "a2", ""))
	mustCreate(t, s, scoped(t, tn, "likes tea", "a1", "r1"))
	mustCreate(t, s, scoped(t, tn, "likes tea", "", ""))
	// The same text in the same scopes is the duplicate it always was.
	got, created, err := s.Create(ctxFor(t), tn, scoped(t, tn, "likes tea", "a1", ""))
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first.ID, got.ID)
	n, err := s.CreateBatch(ctxFor(t), tn, []domain.Memory{
		scoped(t, tn, "likes tea", "a1", ""), scoped(t, tn, "likes tea", "a3", ""), scoped(t, tn, "likes tea", "a3", ""),
	})
	require.NoError(t, err)
	require.Equal(t, 1, n, "only a3's first copy is new")
}

func testScopesUpdate(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, scoped(t, tn, "before", "agent", "run"))
	out, err := s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error {
		x.Text, x.AgentID, x.RunID = "after", "other-agent", "other-run"
		return nil
	})
	// A store may refuse the change of scope or ignore it; it never stores it.
	if err == nil {
		require.Equal(t, "after", out.Text)
	}
	got, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.Equal(t, "agent", got.AgentID)
	require.Equal(t, "run", got.RunID)
	// An update to the text of a same-scoped memory is a conflict only in its scope.
	mustCreate(t, s, scoped(t, tn, "taken", "other-agent", "run"))
	_, err = s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error { x.Text = "taken"; return nil })
	require.NoError(t, err, "the same text under another agent is no duplicate")
	mustCreate(t, s, scoped(t, tn, "taken twice", "agent", "run"))
	_, err = s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error { x.Text = "taken twice"; return nil })
	require.ErrorIs(t, err, domain.ErrConflict)
}

func testScopesInvalid(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	for _, c := range []struct{ agent, run, field string }{
		{strings.Repeat("a", domain.MaxScopeIDBytes+1), "", "agent_id"},
		{"", "bad\x00run", "run_id"},
		{"tab\tagent", "", "agent_id"},
		{"\xff", "", "agent_id"},
	} {
		m := scoped(t, tn, "text "+c.field, "", "")
		m.AgentID, m.RunID = c.agent, c.run
		_, _, err := s.Create(ctxFor(t), tn, m)
		require.ErrorIs(t, err, domain.ErrInvalid)
		var ve *domain.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		require.Equal(t, c.field, ve.Field)
	}
	ok := scoped(t, tn, "max", strings.Repeat("é", domain.MaxScopeIDBytes/2), "")
	mustCreate(t, s, ok)
	require.Empty(t, listAll(t, s, tn, domain.ListQuery{AgentID: "x", CreatedAfter: time.Now().Add(-time.Hour)}))
	q := domain.ListQuery{RunID: strings.Repeat("r", domain.MaxScopeIDBytes+1)}
	require.ErrorIs(t, q.Validate(), domain.ErrInvalid)
}
