package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// searchStack is the embedded search pipeline over an env's SQLite store:
// FTS5 text index, in-process vectors, the local embedder, and the indexer
// that keeps both in step with every write of the memory service.
type searchStack struct {
	st      *sqlitestore.Store
	text    *sqlitestore.TextIndex
	vectors *inproc.VectorIndex
	embed   *localembed.Embedder
	indexer *app.Indexer
}

func newSearchStack(t testing.TB, s store) *searchStack {
	t.Helper()
	st, ok := s.(*sqlitestore.Store)
	require.True(t, ok, "envOptions.search needs the SQLite store")
	embed, err := localembed.New(localembed.Options{})
	require.NoError(t, err)
	k := &searchStack{st: st, text: st.TextIndex(), vectors: inproc.NewVectorIndex(), embed: embed}
	k.indexer = app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: k.text, Vectors: k.vectors, Embedder: embed})
	require.NoError(t, k.indexer.Bind(context.Background()))
	return k
}

func (k *searchStack) searcher(mem *app.MemoryService) *app.ExperimentSearch {
	search := app.NewSearchService(app.SearchDeps{Memories: k.st, Text: k.text, Vectors: k.vectors, Embedder: k.embed, Reads: mem})
	fb := app.NewFeedbackService(app.FeedbackDeps{Feedback: k.st, Queries: k.st, Experiments: k.st})
	exps := app.NewExperimentService(app.ExperimentDeps{Experiments: k.st, Feedback: k.st, Queries: k.st})
	return app.NewExperimentSearch(search, exps, fb)
}

func texts(p pageJSON) []string {
	out := make([]string, len(p.Items))
	for i, m := range p.Items {
		out[i] = m.Text
	}
	return out
}

func TestListMemoriesWithQuerySearches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.search = true })
	alice, bob := e.user("acme", "alice"), e.user("acme", "bob")
	alice.add("my sister lives in Lyon and teaches piano")
	alice.add("I prefer green tea in the morning")
	alice.add("the dentist appointment is on Tuesday")
	alice.add("piano lessons every Thursday with my sister in Lyon")
	bob.add("bob also has a sister in Lyon")

	// Newest first without q; by relevance with it.
	plain := decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK)
	require.Equal(t, "piano lessons every Thursday with my sister in Lyon", plain.Items[0].Text)
	found := decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?q=green+tea+morning", nil), http.StatusOK)
	require.NotEmpty(t, found.Items)
	require.Equal(t, "I prefer green tea in the morning", found.Items[0].Text, texts(found))
	require.Nil(t, found.NextCursor)

	found = decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?q=sister+Lyon&limit=2", nil), http.StatusOK)
	require.Len(t, found.Items, 2)
	require.ElementsMatch(t, []string{"my sister lives in Lyon and teaches piano", "piano lessons every Thursday with my sister in Lyon"}, texts(found))
	for _, m := range found.Items {
		require.NotContains(t, m.Text, "bob", "another user's memory")
	}

	// Filters apply; deleted memories are not found.
	tagged := decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "green tea from Kyoto", "app": "kitchen"}), http.StatusCreated)
	found = decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?q=green+tea&app=kitchen", nil), http.StatusOK)
	require.Equal(t, []string{"green tea from Kyoto"}, texts(found))
	require.Equal(t, http.StatusNoContent, alice.do(http.MethodDelete, "/api/v1/memories/"+tagged.ID, nil).Code)
	found = decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?q=green+tea&app=kitchen", nil), http.StatusOK)
	require.Empty(t, found.Items)

	// What cannot combine with a relevance ranking is refused, by name.
	for param, target := range map[string]string{
		"cursor": "/api/v1/memories?q=tea&cursor=abc",
		"state":  "/api/v1/memories?q=tea&state=active",
		"limit":  "/api/v1/memories?q=tea&limit=0",
	} {
		p := requireProblem(t, alice.do(http.MethodGet, target, nil), http.StatusBadRequest)
		require.Equal(t, param, p.Errors[0].Field, target)
	}
	requireProblem(t, alice.do(http.MethodGet, "/api/v1/memories?q=tea&limit=101", nil), http.StatusBadRequest)
	requireProblem(t, e.user("acme", "alice", domain.ScopeSessionsRead).do(http.MethodGet, "/api/v1/memories?q=tea", nil), http.StatusForbidden)
}

func TestListMemoriesQueryWithoutSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.user("acme", "alice")
	alice.add("green tea")
	p := requireProblem(t, alice.do(http.MethodGet, "/api/v1/memories?q=tea", nil), http.StatusBadRequest)
	require.Equal(t, "q", p.Errors[0].Field)
	require.Contains(t, p.Detail, "not enabled")
	// An empty q is no query: the plain listing.
	require.Len(t, decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories?q=", nil), http.StatusOK).Items, 1)
}

func TestListMemoriesQueryTooLong(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.search = true })
	p := requireProblem(t, e.user("acme", "alice").do(http.MethodGet, "/api/v1/memories?q="+strings.Repeat("a", domain.MaxQueryBytes+1), nil), http.StatusBadRequest)
	require.Equal(t, "q", p.Errors[0].Field)
}
