package app

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/engram-memory/engram/domain"
)

// hydrate loads the fused candidates from the store, keeps the active ones
// that still pass the filter (an index may lag the store; the store is the
// truth), applies min_score and diversity, and cuts to the limit.
func (s *SearchService) hydrate(ctx context.Context, t domain.Tenant, fused []domain.Fused, req SearchRequest, sim func(domain.Memory) float64) ([]SearchHit, error) {
	if len(fused) == 0 {
		return []SearchHit{}, nil
	}
	// Load in fused order, a few times the limit at a time, until the limit
	// is filled: most searches read one small batch, and a lagging index
	// (stale entries dropped below) costs another. MMR needs the whole pool.
	want := req.Limit
	batch := min(domain.MaxListLimit, max(2*req.Limit, 20))
	if req.Diversity > 0 {
		want, batch = len(fused), domain.MaxListLimit
	}
	hits := make([]SearchHit, 0, min(len(fused), want))
	for start := 0; start < len(fused) && len(hits) < want; start += batch {
		chunk := fused[start:min(start+batch, len(fused))]
		idList := make([]domain.MemoryID, len(chunk))
		for i, f := range chunk {
			idList[i] = f.ID
		}
		page, err := s.d.Memories.List(ctx, t, domain.ListQuery{IDs: idList, States: []domain.State{domain.StateActive}, Where: req.Where, Limit: len(idList)})
		if err != nil {
			return nil, fmt.Errorf("search: load results: %w", err)
		}
		byID := make(map[domain.MemoryID]domain.Memory, len(page.Items))
		for _, m := range page.Items {
			byID[m.ID] = m
		}
		for _, f := range chunk {
			m, ok := byID[f.ID]
			if !ok || m.State != domain.StateActive || !req.Filter.Matches(m.AppID, m.Categories, m.Metadata, m.CreatedAt) || !req.Filter.MatchesTimes(m) {
				continue
			}
			score := f.Score // domain.Fuse normalised it to [0,1]
			if score < req.MinScore {
				continue
			}
			similarity := sim(m)
			if similarity < req.MinSimilarity {
				continue
			}
			hits = append(hits, SearchHit{Memory: m, Score: score, Similarity: similarity, LexicalRank: f.LexicalRank, VectorRank: f.VectorRank, EntityRank: f.EntityRank})
		}
	}
	if req.Diversity > 0 && len(hits) > 1 {
		hits = diversify(hits, req.Diversity, req.Limit)
	}
	return hits[:min(len(hits), req.Limit)], nil
}

// diversify re-ranks by MMR. Similarity between two memories is the Jaccard
// overlap of their word sets: backend-independent, needs no vectors, and
// near-duplicate memories — the redundancy MMR exists to spread out — share
// most of their words.
func diversify(hits []SearchHit, diversity float64, limit int) []SearchHit {
	words := make([]map[string]bool, len(hits))
	for i, h := range hits {
		words[i] = wordSet(h.Memory.Text)
	}
	rel := make([]float64, len(hits))
	for i, h := range hits {
		rel[i] = h.Score
	}
	order := domain.MMR(rel, func(i, j int) float64 { return jaccard(words[i], words[j]) }, diversity, limit)
	out := make([]SearchHit, len(order))
	for i, idx := range order {
		out[i] = hits[idx]
	}
	return out
}

func wordSet(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		set[w] = true
	}
	return set
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 0
	}
	inter := 0
	for w := range a {
		if b[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}
