package domain

import (
	"math"
	"sort"
)

// DefaultRRFK is the k of reciprocal rank fusion (Cormack et al., 2009). It
// damps the head of each ranking so that one list's first place does not
// drown out agreement between lists.
const DefaultRRFK = 60

// Bounds on per-request ranking weights. Zero switches a ranking off; the
// upper bound keeps a client from making one list absolute by accident.
const (
	MinRankWeight = 0.0
	MaxRankWeight = 10.0
)

// Weights scale each ranking's contribution to a hybrid score.
type Weights struct {
	Lexical float64
	Vector  float64
}

// DefaultWeights weigh both rankings equally.
var DefaultWeights = Weights{Lexical: 1, Vector: 1}

// Validate refuses weights outside [MinRankWeight, MaxRankWeight], NaN, or
// both zero (which would rank nothing).
func (w Weights) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"weights.lexical", w.Lexical}, {"weights.vector", w.Vector}} {
		if math.IsNaN(p.v) || p.v < MinRankWeight || p.v > MaxRankWeight {
			return Invalid(p.name, "must be between %g and %g", MinRankWeight, MaxRankWeight)
		}
	}
	if w.Lexical == 0 && w.Vector == 0 {
		return Invalid("weights", "must not both be zero")
	}
	return nil
}

// Fused is one result of rank fusion. Ranks are 1-based; 0 means the memory
// was absent from that ranking.
type Fused struct {
	ID          MemoryID
	Score       float64
	LexicalRank int
	VectorRank  int
}

// FuseRRF combines two rankings, best first, by weighted reciprocal rank
// fusion: score(d) = Σ w_i / (k + rank_i(d)). Only ranks matter, not the raw
// scores, so BM25 and cosine need no calibration against each other. k <= 0
// means DefaultRRFK. Ties break by the better single rank, then by id, so the
// order is deterministic. Duplicate ids within one list keep their first rank.
func FuseRRF(lexical, vector []MemoryID, w Weights, k int) []Fused {
	if k <= 0 {
		k = DefaultRRFK
	}
	byID := make(map[MemoryID]*Fused, len(lexical)+len(vector))
	out := make([]*Fused, 0, len(lexical)+len(vector))
	get := func(id MemoryID) *Fused {
		f, ok := byID[id]
		if !ok {
			f = &Fused{ID: id}
			byID[id] = f
			out = append(out, f)
		}
		return f
	}
	for i, id := range lexical {
		f := get(id)
		if f.LexicalRank == 0 {
			f.LexicalRank = i + 1
			f.Score += w.Lexical / float64(k+i+1)
		}
	}
	for i, id := range vector {
		f := get(id)
		if f.VectorRank == 0 {
			f.VectorRank = i + 1
			f.Score += w.Vector / float64(k+i+1)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if ba, bb := bestRank(a), bestRank(b); ba != bb {
			return ba < bb
		}
		return a.ID < b.ID
	})
	res := make([]Fused, len(out))
	for i, f := range out {
		res[i] = *f
	}
	return res
}

func bestRank(f *Fused) int {
	switch {
	case f.LexicalRank == 0:
		return f.VectorRank
	case f.VectorRank == 0:
		return f.LexicalRank
	}
	return min(f.LexicalRank, f.VectorRank)
}

// MMR reorders candidates by maximal marginal relevance (Carbonell and
// Goldstein, 1998) and returns the indexes of at most n of them. diversity in
// [0,1] trades relevance (0: plain relevance order) against novelty (1: pick
// whatever is least like what was already picked). relevance[i] should be in
// [0,1]; similarity(i, j) is the similarity of candidates i and j in [-1,1]
// (cosine of normalised embeddings, typically).
func MMR(relevance []float64, similarity func(i, j int) float64, diversity float64, n int) []int {
	if n > len(relevance) {
		n = len(relevance)
	}
	lambda := 1 - math.Max(0, math.Min(1, diversity))
	picked := make([]int, 0, n)
	used := make([]bool, len(relevance))
	maxSim := make([]float64, len(relevance)) // max similarity to anything picked
	for i := range maxSim {
		maxSim[i] = math.Inf(-1)
	}
	for len(picked) < n {
		best, bestScore := -1, math.Inf(-1)
		for i, rel := range relevance {
			if used[i] {
				continue
			}
			s := lambda * rel
			if len(picked) > 0 {
				s -= (1 - lambda) * maxSim[i]
			}
			if s > bestScore {
				best, bestScore = i, s
			}
		}
		used[best] = true
		picked = append(picked, best)
		for i := range relevance {
			if !used[i] {
				maxSim[i] = max(maxSim[i], similarity(i, best))
			}
		}
	}
	return picked
}
