package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// fixedPositions answers one commit position and counts the calls.
type fixedPositions struct {
	mu    sync.Mutex
	pos   domain.Consistency
	calls int
}

func (f *fixedPositions) CommitPosition(context.Context) (domain.Consistency, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.pos, nil
}

// readAfterStore records the read-after position List was called with.
type readAfterStore struct {
	store
	mu   sync.Mutex
	seen []domain.Consistency
}

func (s *readAfterStore) List(ctx context.Context, t domain.Tenant, q domain.ListQuery) (domain.Page, error) {
	c, _ := ports.ReadAfter(ctx)
	s.mu.Lock()
	s.seen = append(s.seen, c)
	s.mu.Unlock()
	return s.store.List(ctx, t, q)
}

func TestConsistencyTokenRoundTrip(t *testing.T) {
	pos := &fixedPositions{pos: domain.Consistency(1<<32 | 0x16B3748)}
	var st *readAfterStore
	e := newEnv(t, func(o *envOptions) {
		o.positions = pos
		o.store = func(tb testing.TB) store { st = &readAfterStore{store: newSQLiteStore(tb)}; return st }
	})
	alice := e.user("org-a", "alice")

	rec := alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "likes tea"})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Equal(t, "1/16B3748", rec.Header().Get("Engram-Consistency"), "a write's response carries the commit position")

	rec = alice.do(http.MethodGet, "/api/v1/memories", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Header().Get("Engram-Consistency"), "reads are not stamped")
	calls := pos.calls

	req := alice.request(http.MethodGet, "/api/v1/memories", nil)
	req.Header.Set("Engram-Consistency", "1/16B3748")
	rec = e.serve(req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, calls, pos.calls)
	st.mu.Lock()
	require.Equal(t, []domain.Consistency{0, pos.pos}, st.seen, "the token reaches the store's reads")
	st.mu.Unlock()

	// A failed write gets no token.
	rec = alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": ""})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Empty(t, rec.Header().Get("Engram-Consistency"))
}

func TestMalformedConsistencyTokenIs400(t *testing.T) {
	e := newEnv(t)
	alice := e.user("org-a", "alice")
	for _, bad := range []string{"yesterday", "1/2/3", "123456789/0", "-1/0", "0x1/0"} {
		req := alice.request(http.MethodGet, "/api/v1/memories", nil)
		req.Header.Set("Engram-Consistency", bad)
		p := requireProblem(t, e.serve(req), http.StatusBadRequest)
		require.Len(t, p.Errors, 1, bad)
		require.Equal(t, "consistency", p.Errors[0].Field)
	}
}
