package app

import (
	"context"
	"slices"

	"github.com/engram-memory/engram/domain"
)

// timeCandidates bounds the fused candidates the time rankings reorder:
// one store read (domain.MaxListLimit ids) per search that uses them.
const timeCandidates = domain.MaxListLimit

// timeRankings folds the time rankings of issue 18 into fused: the
// recency ranking (the candidates newest observed_at first, weighted by
// w.Recency, 0 by default) and the date ranking (when the query names a
// date, the candidates observed within it in their fused order, weighted
// by domain.DefaultDateWeight). base is the sum of the weights fused was
// normalised by. Neither applies: fused as it was, and no store read.
func (s *SearchService) timeRankings(ctx context.Context, t domain.Tenant, query string, fused []domain.Fused, w domain.Weights, base float64) ([]domain.Fused, error) {
	from, to, dated := domain.QueryDateRange(query)
	if len(fused) == 0 || (w.Recency <= 0 && !dated) {
		return fused, nil
	}
	n := min(len(fused), timeCandidates)
	ids := make([]domain.MemoryID, n)
	for i := range n {
		ids[i] = fused[i].ID
	}
	page, err := s.d.Memories.List(ctx, t, domain.ListQuery{IDs: ids, States: []domain.State{domain.StateActive}, Limit: n})
	if err != nil {
		return nil, err
	}
	observed := make(map[domain.MemoryID]domain.Memory, len(page.Items))
	for _, m := range page.Items {
		observed[m.ID] = m
	}
	k := s.d.RRFK
	if w.Recency > 0 {
		newest := make([]domain.MemoryID, 0, len(observed))
		for _, id := range ids {
			if _, ok := observed[id]; ok {
				newest = append(newest, id)
			}
		}
		slices.SortStableFunc(newest, func(a, b domain.MemoryID) int {
			return observed[b].ObservedAt.Compare(observed[a].ObservedAt)
		})
		fused = domain.AddRanking(fused, newest, w.Recency, base, k)
		base += w.Recency
	}
	if dated {
		var within []domain.MemoryID
		for _, f := range fused {
			if m, ok := observed[f.ID]; ok && !m.ObservedAt.Before(from) && m.ObservedAt.Before(to) {
				within = append(within, f.ID)
			}
		}
		fused = domain.AddRanking(fused, within, domain.DefaultDateWeight, base, k)
	}
	return fused, nil
}
