package app

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/domain/extract"
)

// Bounds of the entity ranking: one query costs at most six store reads,
// each of bounded size, whatever the tenant's graph looks like.
const (
	// entityQueryKeys bounds the keys a query is looked up by: the
	// extractor's mentions and the query's word n-grams.
	entityQueryKeys = 64
	// entityNamed bounds the entities a query can name.
	entityNamed = 8
	// entityNeighbours is how many depth-1 neighbours of each named
	// entity, heaviest edges first, expand the query.
	entityNeighbours = 8
	// entityFeedback is how many of the lexical and vector rankings' best
	// hits lend their entities (the second hop of a multi-hop question:
	// "Maya's brother" finds the engagement, which names Priya).
	entityFeedback = 3
	// entitySeeds bounds the entities whose memories are fetched.
	entitySeeds = 24
	// entityHub: an entity linked to more memories than this says
	// nothing about which of them a query wants (the user's own name,
	// the date of a long conversation); it is not expanded.
	entityHub = 32
	// entityMemories bounds the memories the ranking scores.
	entityMemories = 256
)

// Seed weights: a memory linked to an entity the query names counts most;
// one linked to a neighbour of it or to an entity of a best hit, less.
const (
	seedNamed     = 1.0
	seedNeighbour = 0.5
	seedFeedback  = 0.5
)

// entityRanking is the third ranking of hybrid search: the memories linked
// to the entities query names (the offline extractor's mentions and any
// word run that is a known name or alias, case-insensitively) and to
// their close neighbours — the depth-1 neighbours with the heaviest edges
// and the entities that the first hits of the other rankings name. A
// memory scores the sum, over the seed entities it links to, of the
// seed's weight over log₂(1 + the seed's memory count), so a memory
// naming two of them, or a rare one, ranks first. It is empty when the
// query names no entity of the tenant: search is then exactly what it was
// without it. Every read is scoped to t.
func (s *SearchService) entityRanking(ctx context.Context, t domain.Tenant, query string, first []domain.Fused, filter domain.SearchFilter) ([]domain.Ranked, error) {
	q, err := s.queryEntities(ctx, t, query)
	if err != nil {
		return nil, err
	}
	return s.expandEntities(ctx, t, q, first, filter)
}

// namedEntities is the first half of the entity ranking, which needs only
// the query (Search runs it beside the lexical and vector rankings): the
// entities the query names, most specific first, and the edges of those
// that are not hubs.
type namedEntities struct {
	named []domain.Entity
	rels  []domain.Relation
}

func (s *SearchService) queryEntities(ctx context.Context, t domain.Tenant, query string) (namedEntities, error) {
	es := s.d.Entities
	keys := queryEntityKeys(query)
	if len(keys) == 0 {
		return namedEntities{}, nil
	}
	named, err := es.ResolveEntities(ctx, t, keys)
	if err != nil || len(named) == 0 {
		return namedEntities{}, err
	}
	// The most specific names first: a hub tells the least.
	sort.Slice(named, func(i, j int) bool {
		if named[i].Memories != named[j].Memories {
			return named[i].Memories < named[j].Memories
		}
		return named[i].ID < named[j].ID
	})
	named = named[:min(len(named), entityNamed)]
	// A hub's heaviest neighbours are hubs too (the user and the dates
	// they talk on): not worth a read.
	var specific []domain.EntityID
	for _, e := range named {
		if e.Memories <= entityHub {
			specific = append(specific, e.ID)
		}
	}
	var rels []domain.Relation
	if len(specific) > 0 {
		if rels, err = es.Neighbours(ctx, t, specific, entityNeighbours); err != nil {
			return namedEntities{}, err
		}
	}
	return namedEntities{named: named, rels: rels}, nil
}

// expandEntities is the second half: q's seeds, expanded, scored and
// ranked below the first hits of the other rankings.
func (s *SearchService) expandEntities(ctx context.Context, t domain.Tenant, q namedEntities, first []domain.Fused, filter domain.SearchFilter) ([]domain.Ranked, error) {
	es := s.d.Entities
	named, rels := q.named, q.rels
	if len(named) == 0 {
		return nil, nil
	}
	seeds := map[domain.EntityID]float64{}
	known := map[domain.EntityID]domain.Entity{}
	for _, e := range named {
		known[e.ID], seeds[e.ID] = e, seedNamed
	}
	add := func(id domain.EntityID, w float64) {
		if seeds[id] < w {
			seeds[id] = w
		}
	}
	heaviest := map[domain.EntityID]float64{}
	for _, r := range rels {
		heaviest[r.From] = max(heaviest[r.From], r.Weight)
	}
	for _, r := range rels {
		if h := heaviest[r.From]; h > 0 {
			add(r.To, seedNeighbour*r.Weight/h)
		}
	}
	if n := min(len(first), entityFeedback); n > 0 {
		top := make([]domain.MemoryID, n)
		for i := range top {
			top[i] = first[i].ID
		}
		links, err := es.MemoryEntities(ctx, t, top)
		if err != nil {
			return nil, err
		}
		for _, ids := range links {
			for _, id := range ids {
				add(id, seedFeedback)
			}
		}
	}

	var unknown []domain.EntityID
	for id := range seeds {
		if _, ok := known[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		got, err := es.GetEntities(ctx, t, unknown)
		if err != nil {
			return nil, err
		}
		for _, e := range got {
			known[e.ID] = e
		}
	}
	// Expand the specific seeds, the heaviest first; dates are left to the
	// temporal signals (a conversation's date names every turn of it).
	var expand []domain.EntityID
	for id, w := range seeds {
		e, ok := known[id]
		if !ok || e.Memories < 1 || e.Memories > entityHub || (e.Type == domain.EntityDate && w < seedNamed) {
			delete(seeds, id)
			continue
		}
		expand = append(expand, id)
	}
	if len(expand) == 0 {
		return nil, nil
	}
	sort.Slice(expand, func(i, j int) bool {
		if seeds[expand[i]] != seeds[expand[j]] {
			return seeds[expand[i]] > seeds[expand[j]]
		}
		return expand[i] < expand[j]
	})
	expand = expand[:min(len(expand), entitySeeds)]
	// The text index finds the memories that name an expansion entity
	// where the extractor could not tell it was one ("Priya is a dentist":
	// a sentence's first word is not taken for a name on its own); both
	// reads at once.
	var mids []domain.MemoryID
	var mentions map[domain.MemoryID]float64
	var midsErr, mentionsErr error
	var wg sync.WaitGroup
	wg.Go(func() { mentions, mentionsErr = s.mentionHits(ctx, t, expand, seeds, known, filter) })
	mids, midsErr = es.EntityMemories(ctx, t, expand, entityMemories)
	wg.Wait()
	if err := errors.Join(midsErr, mentionsErr); err != nil {
		return nil, err
	}
	for id := range mentions {
		mids = append(mids, id)
	}
	if len(mids) == 0 {
		return nil, nil // the named entities have no memory left to give
	}
	links, err := es.MemoryEntities(ctx, t, mids)
	if err != nil {
		return nil, err
	}
	for id := range mentions {
		if _, ok := links[id]; !ok {
			links[id] = nil
		}
	}
	// The hits that lent their entities come first, in their order: the
	// expansion ranks below what led to it, so fusing it never demotes them.
	var out []domain.Ranked
	head := map[domain.MemoryID]bool{}
	for _, f := range first[:min(len(first), entityFeedback)] {
		head[f.ID] = true
		out = append(out, domain.Ranked{ID: f.ID, Score: math.Inf(1)})
	}
	more := make([]domain.Ranked, 0, len(links))
	for id, ents := range links {
		if head[id] {
			continue
		}
		score := mentions[id]
		for _, e := range ents {
			if w, ok := seeds[e]; ok {
				score += w / math.Log2(1+float64(known[e].Memories))
			}
		}
		if score > 0 {
			more = append(more, domain.Ranked{ID: id, Score: score})
		}
	}
	sort.Slice(more, func(i, j int) bool {
		if more[i].Score != more[j].Score {
			return more[i].Score > more[j].Score
		}
		return more[i].ID > more[j].ID // newer first
	})
	return append(out, more...), nil
}

// queryEntityKeys returns the keys a query may name an entity by: the
// offline extractor's mentions, then every run of one to three words
// (possessive 's dropped), as domain.EntityKey forms, at most
// entityQueryKeys, each once.
func queryEntityKeys(query string) []string {
	seen := map[string]bool{}
	var out []string
	push := func(name string) {
		k := domain.EntityKey(name)
		if k != "" && !seen[k] && len(out) < entityQueryKeys {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, m := range extract.Entities(query) {
		push(m.Name)
	}
	var words []string
	for _, w := range strings.Fields(query) {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for _, suffix := range []string{"'s", "’s"} {
			w = strings.TrimSuffix(w, suffix)
		}
		words = append(words, w)
	}
	stop := func(w string) bool { return w == "" || domain.IsStopWord(strings.ToLower(w)) }
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= len(words); i++ {
			run := words[i : i+n]
			// A run starts and ends with a content word ("Bank of
			// America", not "the bank").
			if stop(run[0]) || stop(run[n-1]) {
				continue
			}
			push(strings.Join(run, " "))
		}
	}
	return out
}

// entityMentionNames bounds the names of expansion entities searched as
// text.
const entityMentionNames = 8

// mentionHits searches the text index for the names of the expansion
// entities that the query does not name itself (those the lexical ranking
// searched already), and scores each hit seedFeedback × its text score
// relative to the first hit's. Nil without a text index.
func (s *SearchService) mentionHits(ctx context.Context, t domain.Tenant, expand []domain.EntityID, seeds map[domain.EntityID]float64, known map[domain.EntityID]domain.Entity, filter domain.SearchFilter) (map[domain.MemoryID]float64, error) {
	if s.d.Text == nil {
		return nil, nil
	}
	var names []string
	for _, id := range expand {
		if seeds[id] < seedNamed && len(names) < entityMentionNames {
			names = append(names, known[id].Name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	hs, err := s.d.Text.Search(ctx, t, strings.Join(names, " "), entityMemories/4, filter)
	if err != nil || len(hs) == 0 || hs[0].Score <= 0 {
		return nil, err
	}
	out := make(map[domain.MemoryID]float64, len(hs))
	for _, h := range hs {
		if h.Score > 0 {
			out[h.ID] = seedFeedback * h.Score / hs[0].Score
		}
	}
	return out, nil
}
