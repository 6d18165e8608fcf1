package contracttest

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RunEntityStore runs the EntityStore contract (ports/entitystore.go)
// against stores made by newStore, one isolated store per parallel subtest.
//
// Semantics the port's doc leaves open and this suite pins down: an
// entity's Name is the mention's name as first seen; a renamed entity's
// old name is listed among its aliases; weights are whole numbers.
func RunEntityStore(t *testing.T, newStore func(t *testing.T) ports.EntityStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s ports.EntityStore)
	}{
		{"Link/CreatesEntitiesLinksAndEdges", testEntityLink},
		{"Link/IdempotentAndReplaces", testEntityRelink},
		{"Link/UnlinkDeletesOrphans", testEntityUnlink},
		{"Link/ResolvesKeysAndUpgradesOther", testEntityResolve},
		{"Link/ConcurrentLinksLoseNoWeight", testEntityConcurrent},
		{"List/OrderSearchTypeAndPages", testEntityList},
		{"Rename/KeepsOldNameAsAlias", testEntityRename},
		{"Merge/FoldsAliasesLinksAndEdges", testEntityMerge},
		{"Merge/UnknownOrSelfChangesNothing", testEntityMergeRefused},
		{"Delete/Cascades", testEntityDelete},
		{"Tenancy/OtherUserAndOrgSeeNothing", testEntityTenancy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

func memID() domain.MemoryID { return domain.MemoryID(domain.NewID(time.Now())) }

func ment(name string, typ domain.EntityType) domain.Mention {
	return domain.Mention{Name: name, Type: typ, Kind: domain.MentionName}
}

// byName resolves names to entities of tn, failing when one is missing.
func byName(t *testing.T, s ports.EntityStore, tn domain.Tenant, names ...string) []domain.Entity {
	t.Helper()
	out := make([]domain.Entity, len(names))
	for i, n := range names {
		es, err := s.ResolveEntities(ctxFor(t), tn, []string{domain.EntityKey(n)})
		require.NoError(t, err)
		require.Len(t, es, 1, "entity %q", n)
		out[i] = es[0]
	}
	return out
}

func weight(t *testing.T, s ports.EntityStore, tn domain.Tenant, from, to domain.EntityID) float64 {
	t.Helper()
	rs, err := s.Neighbours(ctxFor(t), tn, []domain.EntityID{from}, 100)
	require.NoError(t, err)
	for _, r := range rs {
		require.Equal(t, from, r.From)
		if r.To == to {
			require.Equal(t, domain.PredicateCoOccurs, r.Predicate)
			return r.Weight
		}
	}
	return 0
}

func testEntityLink(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	m1, m2 := memID(), memID()
	require.NoError(t, s.LinkMemory(ctx, tn, m1, []domain.Mention{ment("Anna", domain.EntityPerson), ment("Lisbon", domain.EntityPlace)}, now))
	require.NoError(t, s.LinkMemory(ctx, tn, m2, []domain.Mention{ment("anna", domain.EntityPerson), ment("Lisbon.", domain.EntityPlace), ment("Farfetch", domain.EntityOrganisation)}, now))
	es := byName(t, s, tn, "Anna", "Lisbon", "Farfetch")
	anna, lisbon, ff := es[0], es[1], es[2]
	require.Equal(t, "Anna", anna.Name)
	require.Equal(t, domain.EntityPerson, anna.Type)
	require.Equal(t, 2, anna.Memories)
	require.Equal(t, 1, ff.Memories)
	require.Equal(t, 2.0, weight(t, s, tn, anna.ID, lisbon.ID))
	require.Equal(t, 2.0, weight(t, s, tn, lisbon.ID, anna.ID), "edges are symmetric")
	require.Equal(t, 1.0, weight(t, s, tn, anna.ID, ff.ID))
	mems, err := s.EntityMemories(ctx, tn, []domain.EntityID{anna.ID}, 10)
	require.NoError(t, err)
	require.Equal(t, []domain.MemoryID{m2, m1}, mems, "newest first")
	mems, err = s.EntityMemories(ctx, tn, []domain.EntityID{anna.ID, ff.ID}, 1)
	require.NoError(t, err)
	require.Equal(t, []domain.MemoryID{m2}, mems, "limit, each memory once")
	links, err := s.MemoryEntities(ctx, tn, []domain.MemoryID{m1, m2, memID()})
	require.NoError(t, err)
	require.Len(t, links, 2)
	require.ElementsMatch(t, []domain.EntityID{anna.ID, lisbon.ID}, links[m1])
	require.True(t, sort.SliceIsSorted(links[m2], func(i, j int) bool { return links[m2][i] < links[m2][j] }))
	rs, err := s.Neighbours(ctx, tn, []domain.EntityID{anna.ID}, 1)
	require.NoError(t, err)
	require.Equal(t, []domain.Relation{{From: anna.ID, To: lisbon.ID, Predicate: domain.PredicateCoOccurs, Weight: 2}}, rs, "heaviest first, bounded")
}

func testEntityRelink(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	m := memID()
	set := []domain.Mention{ment("Berlin", domain.EntityPlace), ment("Anna", domain.EntityPerson)}
	require.NoError(t, s.LinkMemory(ctx, tn, m, set, now))
	require.NoError(t, s.LinkMemory(ctx, tn, m, set, now))
	es := byName(t, s, tn, "Berlin", "Anna")
	require.Equal(t, 1, es[0].Memories, "twice is once")
	require.Equal(t, 1.0, weight(t, s, tn, es[0].ID, es[1].ID))
	// "I moved from Berlin to Lisbon": Berlin goes, Lisbon comes.
	require.NoError(t, s.LinkMemory(ctx, tn, m, []domain.Mention{ment("Lisbon", domain.EntityPlace), ment("Anna", domain.EntityPerson)}, now))
	got, err := s.ResolveEntities(ctx, tn, []string{"berlin"})
	require.NoError(t, err)
	require.Empty(t, got, "an entity no memory names is deleted")
	es = byName(t, s, tn, "Lisbon", "Anna")
	require.Equal(t, 1.0, weight(t, s, tn, es[1].ID, es[0].ID))
	rs, err := s.Neighbours(ctx, tn, []domain.EntityID{es[1].ID}, 10)
	require.NoError(t, err)
	require.Len(t, rs, 1, "Berlin's edge went with it")
}

func testEntityUnlink(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	m1, m2 := memID(), memID()
	both := []domain.Mention{ment("Anna", domain.EntityPerson), ment("Lisbon", domain.EntityPlace)}
	require.NoError(t, s.LinkMemory(ctx, tn, m1, both, now))
	require.NoError(t, s.LinkMemory(ctx, tn, m2, both, now))
	require.NoError(t, s.LinkMemory(ctx, tn, m1, nil, now))
	es := byName(t, s, tn, "Anna", "Lisbon")
	require.Equal(t, 1, es[0].Memories)
	require.Equal(t, 1.0, weight(t, s, tn, es[0].ID, es[1].ID))
	require.NoError(t, s.LinkMemory(ctx, tn, m2, []domain.Mention{}, now))
	page, err := s.ListEntities(ctx, tn, domain.EntityQuery{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, page.Items)
	got, err := s.GetEntities(ctx, tn, []domain.EntityID{es[0].ID, es[1].ID})
	require.NoError(t, err)
	require.Empty(t, got)
	rs, err := s.Neighbours(ctx, tn, []domain.EntityID{es[0].ID}, 10)
	require.NoError(t, err)
	require.Empty(t, rs)
}

func testEntityResolve(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	require.NoError(t, s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("Miso", domain.EntityOther), ment("Miso", domain.EntityPerson)}, now))
	require.NoError(t, s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("MISO", domain.EntityPerson)}, now))
	e := byName(t, s, tn, "miso")[0]
	require.Equal(t, "Miso", e.Name)
	require.Equal(t, domain.EntityPerson, e.Type, "other is upgraded by a typed mention")
	require.Equal(t, 2, e.Memories)
	require.NoError(t, s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("Miso", domain.EntityPlace)}, now))
	require.Equal(t, domain.EntityPerson, byName(t, s, tn, "miso")[0].Type, "a typed entity keeps its type")
	got, err := s.ResolveEntities(ctx, tn, []string{"miso", "miso", "nobody"})
	require.NoError(t, err)
	require.Len(t, got, 1)
}

func testEntityConcurrent(t *testing.T, s ports.EntityStore) {
	tn, ctx := newTenant(t), ctxFor(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("Anna", domain.EntityPerson), ment("Lisbon", domain.EntityPlace)}, time.Now())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	es := byName(t, s, tn, "Anna", "Lisbon")
	require.Equal(t, n, es[0].Memories)
	require.Equal(t, float64(n), weight(t, s, tn, es[0].ID, es[1].ID))
}

func testEntityList(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	for i := 0; i < 3; i++ {
		require.NoError(t, s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("Ada Lovelace", domain.EntityPerson), ment("London", domain.EntityPlace)}, now))
	}
	require.NoError(t, s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("Lisbon", domain.EntityPlace), ment("London", domain.EntityPlace)}, now))
	require.NoError(t, s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("Lima", domain.EntityPlace)}, now))
	page, err := s.ListEntities(ctx, tn, domain.EntityQuery{Limit: 2})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	require.Equal(t, "London", page.Items[0].Name)
	require.Equal(t, 4, page.Items[0].Memories)
	require.Equal(t, "Ada Lovelace", page.Items[1].Name)
	require.NotNil(t, page.Next)
	rest, err := s.ListEntities(ctx, tn, domain.EntityQuery{Limit: 2, After: page.Next})
	require.NoError(t, err)
	require.Len(t, rest.Items, 2)
	require.ElementsMatch(t, []string{"Lisbon", "Lima"}, []string{rest.Items[0].Name, rest.Items[1].Name})
	require.Nil(t, rest.Next, "the last page says so")
	for _, c := range []struct {
		search string
		typ    domain.EntityType
		want   []string
	}{
		{"l", "", []string{"London", "Ada Lovelace", "Lisbon", "Lima"}},
		{"li", domain.EntityPlace, []string{"Lisbon", "Lima"}},
		{"lov", "", []string{"Ada Lovelace"}},
		{"ada l", "", []string{"Ada Lovelace"}},
		{"L", domain.EntityPerson, []string{"Ada Lovelace"}},
		{"50%_", "", nil},
		{"", domain.EntityDate, nil},
	} {
		got, err := s.ListEntities(ctx, tn, domain.EntityQuery{Search: c.search, Type: c.typ, Limit: 10})
		require.NoError(t, err)
		var names []string
		for _, e := range got.Items {
			names = append(names, e.Name)
		}
		require.ElementsMatch(t, c.want, names, "search %q type %q", c.search, c.typ)
	}
}

func testEntityRename(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	require.NoError(t, s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("Bob", domain.EntityPerson), ment("Alice", domain.EntityPerson)}, now))
	bob := byName(t, s, tn, "Bob")[0]
	e, err := s.RenameEntity(ctx, tn, bob.ID, "Robert Smith", now)
	require.NoError(t, err)
	require.Equal(t, "Robert Smith", e.Name)
	require.Equal(t, []string{"Bob"}, e.Aliases)
	require.Equal(t, bob.ID, byName(t, s, tn, "bob")[0].ID, "the old name still resolves")
	require.Equal(t, bob.ID, byName(t, s, tn, "robert smith")[0].ID)
	_, err = s.RenameEntity(ctx, tn, bob.ID, "ALICE", now)
	requireKind(t, err, domain.ErrConflict)
	_, err = s.RenameEntity(ctx, tn, bob.ID, " .. ", now)
	requireKind(t, err, domain.ErrInvalid)
	_, err = s.RenameEntity(ctx, tn, domain.EntityID(domain.NewID(now)), "Zed", now)
	requireKind(t, err, domain.ErrNotFound)
	e, err = s.RenameEntity(ctx, tn, bob.ID, "bob", now)
	require.NoError(t, err, "renaming to one's own alias")
	require.Equal(t, "bob", e.Name)
}

func testEntityMerge(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	m1, m2, m3 := memID(), memID(), memID()
	require.NoError(t, s.LinkMemory(ctx, tn, m1, []domain.Mention{ment("Bob", domain.EntityOther), ment("Paris", domain.EntityPlace)}, now))
	require.NoError(t, s.LinkMemory(ctx, tn, m2, []domain.Mention{ment("Robert", domain.EntityPerson), ment("Paris", domain.EntityPlace)}, now))
	require.NoError(t, s.LinkMemory(ctx, tn, m3, []domain.Mention{ment("Bob", domain.EntityOther), ment("Robert", domain.EntityPerson), ment("Paris", domain.EntityPlace)}, now))
	es := byName(t, s, tn, "Bob", "Robert", "Paris")
	bob, robert, paris := es[0], es[1], es[2]
	require.Equal(t, 3.0, weight(t, s, tn, paris.ID, bob.ID)+weight(t, s, tn, paris.ID, robert.ID)-1)
	e, err := s.MergeEntities(ctx, tn, bob.ID, []domain.EntityID{robert.ID}, now)
	require.NoError(t, err)
	require.Equal(t, "Bob", e.Name)
	require.Equal(t, domain.EntityPerson, e.Type, "other takes the merged type")
	require.Equal(t, []string{"Robert"}, e.Aliases)
	require.Equal(t, 3, e.Memories, "m3 named both: counted once")
	require.Equal(t, 3.0, weight(t, s, tn, bob.ID, paris.ID))
	require.Equal(t, 3.0, weight(t, s, tn, paris.ID, bob.ID))
	require.Equal(t, 0.0, weight(t, s, tn, paris.ID, robert.ID))
	require.Equal(t, bob.ID, byName(t, s, tn, "robert")[0].ID)
	got, err := s.GetEntities(ctx, tn, []domain.EntityID{robert.ID})
	require.NoError(t, err)
	require.Empty(t, got)
	// A later memory naming Robert links to Bob.
	require.NoError(t, s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("Robert", domain.EntityPerson)}, now))
	require.Equal(t, 4, byName(t, s, tn, "bob")[0].Memories)
}

func testEntityMergeRefused(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	require.NoError(t, s.LinkMemory(ctx, tn, memID(), []domain.Mention{ment("Bob", domain.EntityPerson), ment("Robert", domain.EntityPerson)}, now))
	es := byName(t, s, tn, "Bob", "Robert")
	_, err := s.MergeEntities(ctx, tn, es[0].ID, []domain.EntityID{es[1].ID, domain.EntityID(domain.NewID(now))}, now)
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.MergeEntities(ctx, tn, es[0].ID, []domain.EntityID{es[0].ID}, now)
	requireKind(t, err, domain.ErrInvalid)
	_, err = s.MergeEntities(ctx, tn, es[0].ID, nil, now)
	requireKind(t, err, domain.ErrInvalid)
	es = byName(t, s, tn, "Bob", "Robert")
	require.NotEqual(t, es[0].ID, es[1].ID, "nothing was merged")
	require.Equal(t, 1.0, weight(t, s, tn, es[0].ID, es[1].ID))
}

func testEntityDelete(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	m := memID()
	require.NoError(t, s.LinkMemory(ctx, tn, m, []domain.Mention{ment("Bob", domain.EntityPerson), ment("Paris", domain.EntityPlace)}, now))
	es := byName(t, s, tn, "Bob", "Paris")
	require.NoError(t, s.DeleteEntity(ctx, tn, es[0].ID))
	requireKind(t, s.DeleteEntity(ctx, tn, es[0].ID), domain.ErrNotFound)
	links, err := s.MemoryEntities(ctx, tn, []domain.MemoryID{m})
	require.NoError(t, err)
	require.Equal(t, []domain.EntityID{es[1].ID}, links[m])
	rs, err := s.Neighbours(ctx, tn, []domain.EntityID{es[1].ID}, 10)
	require.NoError(t, err)
	require.Empty(t, rs)
	require.Equal(t, 1, byName(t, s, tn, "Paris")[0].Memories)
	// Relinking the memory after the delete creates Bob anew and unlinks nothing twice.
	require.NoError(t, s.LinkMemory(ctx, tn, m, []domain.Mention{ment("Bob", domain.EntityPerson), ment("Paris", domain.EntityPlace)}, now))
	require.NotEqual(t, es[0].ID, byName(t, s, tn, "Bob")[0].ID)
	require.Equal(t, 1, byName(t, s, tn, "Paris")[0].Memories)
}

func testEntityTenancy(t *testing.T, s ports.EntityStore) {
	tn, ctx, now := newTenant(t), ctxFor(t), time.Now()
	m := memID()
	require.NoError(t, s.LinkMemory(ctx, tn, m, []domain.Mention{ment("Bob", domain.EntityPerson), ment("Paris", domain.EntityPlace)}, now))
	es := byName(t, s, tn, "Bob", "Paris")
	ids := []domain.EntityID{es[0].ID, es[1].ID}
	for _, other := range []domain.Tenant{{OrgID: tn.OrgID, UserID: "someone-else"}, {OrgID: "org-" + domain.OrgID(randHex(t)), UserID: tn.UserID}} {
		got, err := s.GetEntities(ctx, other, ids)
		require.NoError(t, err)
		require.Empty(t, got)
		page, err := s.ListEntities(ctx, other, domain.EntityQuery{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, page.Items)
		res, err := s.ResolveEntities(ctx, other, []string{"bob"})
		require.NoError(t, err)
		require.Empty(t, res)
		mems, err := s.EntityMemories(ctx, other, ids, 10)
		require.NoError(t, err)
		require.Empty(t, mems)
		links, err := s.MemoryEntities(ctx, other, []domain.MemoryID{m})
		require.NoError(t, err)
		require.Empty(t, links)
		rs, err := s.Neighbours(ctx, other, ids, 10)
		require.NoError(t, err)
		require.Empty(t, rs)
		_, err = s.RenameEntity(ctx, other, ids[0], "X", now)
		requireKind(t, err, domain.ErrNotFound)
		_, err = s.MergeEntities(ctx, other, ids[0], ids[1:], now)
		requireKind(t, err, domain.ErrNotFound)
		requireKind(t, s.DeleteEntity(ctx, other, ids[0]), domain.ErrNotFound)
		// The other tenant naming Bob gets its own Bob.
		require.NoError(t, s.LinkMemory(ctx, other, memID(), []domain.Mention{ment("Bob", domain.EntityPerson)}, now))
		require.NotEqual(t, ids[0], byName(t, s, other, "Bob")[0].ID)
	}
	require.Equal(t, 1, byName(t, s, tn, "Bob")[0].Memories)
}
