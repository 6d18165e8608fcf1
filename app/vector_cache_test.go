package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// cacheFixture is a store with tenants of memories, a reference index
// holding every tenant, and a budgeted cache in front of another index.
type cacheFixture struct {
	svc     *app.MemoryService
	st      *sqlitestore.Store
	emb     ports.Embedder
	ref     *inproc.VectorIndex
	cache   *app.VectorCache
	ix      *app.Indexer // writes through the cache, as engramd wires it
	tenants []domain.Tenant
	texts   map[domain.Tenant][]string
}

var cacheTopics = []string{"jazz", "hiking", "tea", "chess", "sailing", "pottery", "rust", "opera", "cycling", "baking"}

// newCacheFixture makes tenants × perTenant memories and a cache whose
// budget holds about budgetTenants of them.
func newCacheFixture(t *testing.T, tenants, perTenant int, budgetTenants float64) *cacheFixture {
	t.Helper()
	ctx := context.Background()
	svc, st := newMemoryService(t)
	emb, err := localembed.New(localembed.Options{})
	require.NoError(t, err)
	f := &cacheFixture{svc: svc, st: st, emb: emb, ref: inproc.NewVectorIndex(), texts: map[domain.Tenant][]string{}}
	for i := range tenants {
		p := domain.Principal{OrgID: domain.OrgID(fmt.Sprintf("org%d", i%3)), UserID: domain.UserID(fmt.Sprintf("user%d", i)), Scopes: domain.DefaultUserScopes, ClientID: "test"}
		tn := p.Tenant()
		f.tenants = append(f.tenants, tn)
		for j := range perTenant {
			text := fmt.Sprintf("user %d note %d: likes %s and %s, item %d", i, j, cacheTopics[(i+j)%len(cacheTopics)], cacheTopics[(i*7+j*3)%len(cacheTopics)], j*31+i)
			_, _, err := svc.Add(ctx, p, app.AddInput{Text: text})
			require.NoError(t, err)
			f.texts[tn] = append(f.texts[tn], text)
		}
	}
	full := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Vectors: f.ref, Embedder: emb})
	n, err := full.Reindex(ctx, app.ReindexOptions{Vectors: true})
	require.NoError(t, err)
	require.Equal(t, tenants*perTenant, n)
	// One tenant's size as a page-in lays it out (the reference index grew
	// its slabs batch by batch and is larger).
	probe := app.NewVectorCache(app.VectorCacheDeps{Index: inproc.NewVectorIndex(), Memories: st, Embedder: emb, MaxBytes: 1 << 40})
	require.NoError(t, probe.Bind(ctx, f.ref.Space()))
	_, _, err = probe.Centroid(ctx, f.tenants[0])
	require.NoError(t, err)
	perTenantBytes := probe.Stats().Bytes
	require.Positive(t, perTenantBytes)

	inner := inproc.NewVectorIndex()
	f.cache = app.NewVectorCache(app.VectorCacheDeps{Index: inner, Memories: st, Embedder: emb, MaxBytes: int64(budgetTenants * float64(perTenantBytes))})
	f.ix = app.NewIndexer(app.IndexerDeps{Memories: st, Vectors: f.cache, Embedder: emb})
	require.NoError(t, f.ix.Bind(ctx))
	return f
}

// requireSameHits checks that the cache answers q for tn exactly as the
// reference index holding every tenant does.
func (f *cacheFixture) requireSameHits(t *testing.T, tn domain.Tenant, q string) {
	t.Helper()
	ctx := context.Background()
	v, err := f.emb.Embed(ctx, []string{q})
	require.NoError(t, err)
	want, err := f.ref.Search(ctx, tn, v[0], 5, domain.SearchFilter{})
	require.NoError(t, err)
	require.NotEmpty(t, want)
	got, err := f.cache.Search(ctx, tn, v[0], 5, domain.SearchFilter{})
	require.NoError(t, err)
	require.Equal(t, want, got, "tenant %v, query %q", tn, q)
	wc, wn, err := f.ref.Centroid(ctx, tn)
	require.NoError(t, err)
	gc, gn, err := f.cache.Centroid(ctx, tn)
	require.NoError(t, err)
	require.Equal(t, wn, gn)
	require.InDeltaSlice(t, wc, gc, 1e-5)
}

// TestVectorCacheAnswersEveryTenantWithinItsBudget: a budget of two and a
// half tenants, eight tenants searched in turn, twice round: every answer
// is the reference's, the cache never holds more than the budget, and
// tenants are paged in and evicted.
func TestVectorCacheAnswersEveryTenantWithinItsBudget(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 8, 40, 2.5)
	for round := range 2 {
		for i, tn := range f.tenants {
			f.requireSameHits(t, tn, f.texts[tn][(i+round)%len(f.texts[tn])])
			st := f.cache.Stats()
			require.LessOrEqual(t, st.Bytes, st.BudgetSize, "round %d tenant %d", round, i)
			require.LessOrEqual(t, st.Tenants, 2)
		}
	}
	st := f.cache.Stats()
	require.EqualValues(t, 16, st.Loads, "every search of a tenant not searched just before pages it in")
	require.EqualValues(t, 14, st.Evictions)

	// A hot tenant stays: searching it between others keeps it resident.
	hot := f.tenants[0]
	for _, tn := range f.tenants[1:] {
		f.requireSameHits(t, hot, f.texts[hot][1])
		f.requireSameHits(t, tn, f.texts[tn][2])
	}
	st = f.cache.Stats()
	require.EqualValues(t, 16+1+7, st.Loads, "the hot tenant was paged in once")
	// Each check reads the tenant twice (Search, then Centroid): the
	// Centroid after every page-in is a hit, and so are both reads of the
	// hot tenant's six later checks.
	require.EqualValues(t, 24+6*2, st.Hits, "lookups of resident tenants")
	require.EqualValues(t, 24*40, st.PagedIn, "each page-in embedded its tenant's 40 memories")
	require.Positive(t, st.EmbedTime)
	require.GreaterOrEqual(t, st.PageInTime, st.EmbedTime)
}

// TestVectorCacheFollowsWrites: writes reach resident tenants at once and
// the others when they are paged in; a delete is never answered.
func TestVectorCacheFollowsWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCacheFixture(t, 4, 20, 1.5)
	full := app.NewIndexer(app.IndexerDeps{Memories: f.st, Vectors: f.ref, Embedder: f.emb})
	add := func(tn domain.Tenant, text string) domain.Memory {
		p := domain.Principal{OrgID: tn.OrgID, UserID: tn.UserID, Scopes: domain.DefaultUserScopes, ClientID: "test"}
		m, _, err := f.svc.Add(ctx, p, app.AddInput{Text: text})
		require.NoError(t, err)
		require.NoError(t, f.ix.MemoriesChanged(ctx, tn, []domain.MemoryID{m.ID}))
		require.NoError(t, full.MemoriesChanged(ctx, tn, []domain.MemoryID{m.ID}))
		return m
	}
	a, b := f.tenants[0], f.tenants[1]
	f.requireSameHits(t, a, "jazz") // a resident
	require.True(t, f.cache.Resident(a))
	require.False(t, f.cache.Resident(b), "b was never searched: writes to it are not embedded")
	ma := add(a, "flies a red kite on windy beaches")
	mb := add(b, "keeps bees on the roof of the garage") // b not resident: only the store has it
	f.requireSameHits(t, a, "flies a red kite on windy beaches")
	f.requireSameHits(t, b, "keeps bees on the roof of the garage") // pages b in, evicts a
	require.Equal(t, 1, f.cache.Stats().Tenants)

	require.NoError(t, f.st.Delete(ctx, b, []domain.MemoryID{mb.ID}, "test"))
	require.NoError(t, f.ix.MemoriesChanged(ctx, b, []domain.MemoryID{mb.ID}))
	require.NoError(t, full.MemoriesChanged(ctx, b, []domain.MemoryID{mb.ID}))
	f.requireSameHits(t, b, "keeps bees on the roof of the garage")
	require.NoError(t, f.st.Delete(ctx, a, []domain.MemoryID{ma.ID}, "test")) // a not resident now
	require.NoError(t, f.ix.MemoriesChanged(ctx, a, []domain.MemoryID{ma.ID}))
	require.NoError(t, full.MemoriesChanged(ctx, a, []domain.MemoryID{ma.ID}))
	f.requireSameHits(t, a, "flies a red kite on windy beaches")
}

// TestVectorCacheUnderConcurrency: searches of random tenants and writes
// race (run with -race); afterwards every tenant answers as the reference.
func TestVectorCacheUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCacheFixture(t, 6, 30, 2)
	full := app.NewIndexer(app.IndexerDeps{Memories: f.st, Vectors: f.ref, Embedder: f.emb})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range 40 {
				tn := f.tenants[r.IntN(len(f.tenants))]
				v, err := f.emb.Embed(ctx, []string{cacheTopics[i%len(cacheTopics)]})
				if err == nil {
					_, err = f.cache.Search(ctx, tn, v[0], 5, domain.SearchFilter{})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 30 {
			tn := f.tenants[i%len(f.tenants)]
			p := domain.Principal{OrgID: tn.OrgID, UserID: tn.UserID, Scopes: domain.DefaultUserScopes, ClientID: "test"}
			m, _, err := f.svc.Add(ctx, p, app.AddInput{Text: fmt.Sprintf("written during the race, number %d", i)})
			if err == nil {
				err = f.ix.MemoriesChanged(ctx, tn, []domain.MemoryID{m.ID})
			}
			if err == nil {
				err = full.MemoriesChanged(ctx, tn, []domain.MemoryID{m.ID})
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	for _, tn := range f.tenants {
		f.requireSameHits(t, tn, "written during the race, number 7")
		require.LessOrEqual(t, f.cache.Stats().Bytes, f.cache.Stats().BudgetSize)
	}
}
