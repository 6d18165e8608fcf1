package mcpserver_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// countingPositions answers 0/1, 0/2, … on successive calls.
type countingPositions struct {
	mu sync.Mutex
	n  domain.Consistency
}

func (c *countingPositions) CommitPosition(context.Context) (domain.Consistency, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n, nil
}

// readAfterStore records the read-after position of each List.
type readAfterStore struct {
	*sqlitestore.Store
	mu   sync.Mutex
	seen []domain.Consistency
}

func (s *readAfterStore) List(ctx context.Context, t domain.Tenant, q domain.ListQuery) (domain.Page, error) {
	c, _ := ports.ReadAfter(ctx)
	s.mu.Lock()
	s.seen = append(s.seen, c)
	s.mu.Unlock()
	return s.Store.List(ctx, t, q)
}

func (s *readAfterStore) last(t *testing.T) domain.Consistency {
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.seen)
	return s.seen[len(s.seen)-1]
}

// Within one MCP session, reads after a write ask for that write's commit
// position without the client doing anything; another session does not.
func TestSessionReadsItsOwnWrites(t *testing.T) {
	var rec *readAfterStore
	pos := &countingPositions{}
	h := newHarness(t, func(su *setup) {
		rec = &readAfterStore{Store: su.Store}
		mem := app.NewMemoryService(app.MemoryDeps{Memories: rec, Apps: su.Store, Access: su.Store})
		t.Cleanup(mem.Close)
		su.Deps.Memories = mem
		su.Deps.Positions = pos
	})
	a := h.connect("/mcp", h.token("alice"), "Claude Desktop")
	b := h.connect("/mcp", h.token("alice"), "Cursor")

	callOK[listJSON](t, a, "list_memories", map[string]any{})
	require.Zero(t, rec.last(t), "nothing written yet: no requirement")
	callOK[addJSON](t, a, "add_memories", map[string]any{"text": "Prefers aisle seats"})
	callOK[listJSON](t, a, "list_memories", map[string]any{})
	require.Equal(t, domain.Consistency(1), rec.last(t), "the session reads after its write")
	callOK[listJSON](t, b, "list_memories", map[string]any{})
	require.Zero(t, rec.last(t), "another session has its own position")
	callOK[addJSON](t, a, "add_memories", map[string]any{"text": "Drinks green tea"})
	callOK[listJSON](t, a, "list_memories", map[string]any{})
	require.Equal(t, domain.Consistency(2), rec.last(t))
}
