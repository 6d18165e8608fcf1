package domain

import (
	"math"
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
	// Entity weighs the entity ranking: memories linked to the entities a
	// query names and to their neighbours (app's entity expansion). It
	// only adds to what the other two found or missed; 0 leaves it out.
	Entity float64
	// Recency weighs the recency ranking (issue 18): the candidates the
	// other rankings found, newest observed_at first. 0, the default,
	// leaves it out.
	Recency float64
}

// DefaultEntityWeight is the entity ranking's weight next to lexical and
// vector weights of 1, chosen on the development half of testdata/conv and
// checked on its held-out half (docs/search.md).
const DefaultEntityWeight = 1.5

// DefaultWeights weigh lexical and vector rankings equally and the entity
// ranking at DefaultEntityWeight.
var DefaultWeights = Weights{Lexical: 1, Vector: 1, Entity: DefaultEntityWeight}

// Validate refuses weights outside [MinRankWeight, MaxRankWeight], NaN, or
// lexical and vector both zero (which would rank nothing: the entity
// ranking only expands a query that another ranking answers).
func (w Weights) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"weights.lexical", w.Lexical}, {"weights.vector", w.Vector}, {"weights.entity", w.Entity}, {"weights.recency", w.Recency}} {
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
	EntityRank  int
}

// bestRank is the better of the lexical and vector ranks, then the entity
// rank (a memory only the entity ranking found ranks after any the others
// found, on equal scores); absent ranks count as none.
func bestRank(f *Fused) int {
	const none = math.MaxInt
	b := none
	for _, r := range []int{f.LexicalRank, f.VectorRank} {
		if r > 0 {
			b = min(b, r)
		}
	}
	if b == none && f.EntityRank > 0 {
		return none/2 + f.EntityRank
	}
	return b
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
