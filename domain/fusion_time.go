package domain

import "sort"

// DefaultDateWeight weighs the date ranking (issue 18): when a query names
// a date (QueryDateRange), the candidates observed within it, in their
// fused order. It only ever applies to such queries, and only moves
// memories whose observed_at falls in the named day, month or year.
const DefaultDateWeight = 1.0

// AddRanking folds one more ranking into fused results as reciprocal rank
// fusion would have: each id of ranking (best first) gains w/(k+rank).
// base is the sum of the weights the fused scores were normalised by
// (their best possible score being base/(k+1)); the result is normalised
// again, by (base+w)/(k+1), and sorted by score, ties by the better
// lexical or vector rank, then id. Ids not among fused are ignored: the
// ranking reorders what the others found. w <= 0 or an empty ranking
// returns fused unchanged.
func AddRanking(fused []Fused, ranking []MemoryID, w, base float64, k int) []Fused {
	if w <= 0 || len(ranking) == 0 || len(fused) == 0 || base <= 0 {
		return fused
	}
	if k <= 0 {
		k = DefaultRRFK
	}
	rank := make(map[MemoryID]int, len(ranking))
	for i, id := range ranking {
		if _, dup := rank[id]; !dup {
			rank[id] = i + 1
		}
	}
	kk := float64(k + 1)
	out := make([]Fused, len(fused))
	for i, f := range fused {
		raw := f.Score * base / kk
		if r, ok := rank[f.ID]; ok {
			raw += w / float64(k+r)
		}
		f.Score = raw / ((base + w) / kk)
		out[i] = f
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		bi, bj := bestRank(&out[i]), bestRank(&out[j])
		if bi != bj {
			return bi < bj
		}
		return out[i].ID < out[j].ID
	})
	return out
}
