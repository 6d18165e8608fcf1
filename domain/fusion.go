package domain

import (
	"math"
	"sort"
)

// Ranked is one entry of a ranking, best first, with the score its backend
// gave it (BM25, cosine). Fusion uses ranks; scores only tell how sure a
// ranking is of its head (Confidence).
type Ranked struct {
	ID    MemoryID
	Score float64
}

// Fusion are the knobs of hybrid fusion. Reciprocal rank fusion is the
// frame: score(d) = Σ wᵢ(q) / (k + rankᵢ(d)); what Fusion adds is that each
// ranking's weight depends on how sure that ranking is of this query, and
// that a ranking which is sure while the other is not keeps its first place.
type Fusion struct {
	// K is RRF's k; 0 means DefaultRRFK.
	K int
	// Weights are the base weights; a zero weight leaves a ranking out.
	Weights Weights
	// GapBoost scales each ranking's weight by 1 + GapBoost·gap, gap being
	// its Confidence: a ranking whose first hit stands out votes louder
	// than one whose head is a flat row of look-alikes. 0 is plain RRF.
	GapBoost float64
	// PinGap, when > 0, is the fallback: if exactly one ranking's
	// Confidence reaches it, that ranking's first hit is ranked first
	// whatever the other says.
	PinGap float64
}

// Confidence is how far a ranking's first score stands above its third,
// relative to the first, in [0,1]: (s₁ − s₃)/|s₁|. Fewer than three hits
// with a positive first score count as sure (1); no hit, or a first score
// ≤ 0, as not at all (0). Third rather than second: an answer spread over
// two memories often has two strong hits.
func Confidence(r []Ranked) float64 {
	if len(r) == 0 || r[0].Score <= 0 || math.IsNaN(r[0].Score) {
		return 0
	}
	if len(r) < 3 {
		return 1
	}
	return math.Max(0, math.Min(1, (r[0].Score-r[2].Score)/r[0].Score))
}

// Fuse combines two rankings as Fusion says; see FuseEntity.
func Fuse(lexical, vector []Ranked, f Fusion) []Fused {
	return FuseEntity(lexical, vector, nil, f)
}

// FuseEntity combines the lexical, vector and entity rankings as Fusion
// says. The entity ranking adds f.Weights.Entity/(k+rank) like the others
// but takes no part in the per-query signals (GapBoost, PinGap): it
// expands a query rather than answering it. An empty entity ranking
// leaves the result exactly as Fuse(lexical, vector, f) without it. Scores are normalised by the
// best possible score (first in every ranking that ran, at this query's
// weights), so they are in [0,1]. Ties break by the better single rank,
// then by id; duplicate ids within one list keep their first rank.
func FuseEntity(lexical, vector, entity []Ranked, f Fusion) []Fused {
	k := f.K
	if k <= 0 {
		k = DefaultRRFK
	}
	cl, cv := Confidence(lexical), Confidence(vector)
	w := Weights{Lexical: f.Weights.Lexical * math.Max(0, 1+f.GapBoost*(cl-cv)), Vector: f.Weights.Vector * math.Max(0, 1+f.GapBoost*(cv-cl)), Entity: f.Weights.Entity}
	if len(lexical) == 0 {
		w.Lexical = 0
	}
	if len(vector) == 0 {
		w.Vector = 0
	}
	if len(entity) == 0 {
		w.Entity = 0
	}
	out := fuse(ids(lexical), ids(vector), ids(entity), w, k)
	best := (w.Lexical + w.Vector + w.Entity) / float64(k+1)
	if best <= 0 {
		return out
	}
	for i := range out {
		out[i].Score /= best
	}
	var pin MemoryID
	switch {
	case f.PinGap <= 0:
	case w.Lexical > 0 && cl >= f.PinGap && (w.Vector == 0 || cv < f.PinGap):
		pin = lexical[0].ID
	case w.Vector > 0 && cv >= f.PinGap && (w.Lexical == 0 || cl < f.PinGap):
		pin = vector[0].ID
	}
	if pin != "" && len(out) > 0 && out[0].ID != pin {
		for i := range out {
			if out[i].ID == pin {
				p := out[i]
				p.Score = out[0].Score
				copy(out[1:i+1], out[:i])
				out[0] = p
				break
			}
		}
	}
	return out
}

func ids(r []Ranked) []MemoryID {
	out := make([]MemoryID, len(r))
	for i, x := range r {
		out[i] = x.ID
	}
	return out
}

// FuseRRF combines two rankings, best first, by weighted reciprocal rank
// fusion: score(d) = Σ w_i / (k + rank_i(d)). Only ranks matter, not the raw
// scores, so BM25 and cosine need no calibration against each other. k <= 0
// means DefaultRRFK. Scores are not normalised. Ties break by the better
// single rank, then by id, so the order is deterministic. Duplicate ids
// within one list keep their first rank.
func FuseRRF(lexical, vector []MemoryID, w Weights, k int) []Fused {
	if k <= 0 {
		k = DefaultRRFK
	}
	w.Entity = 0
	return fuse(lexical, vector, nil, w, k)
}

func fuse(lexical, vector, entity []MemoryID, w Weights, k int) []Fused {
	byID := make(map[MemoryID]*Fused, len(lexical)+len(vector)+len(entity))
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
	if w.Entity > 0 {
		for i, id := range entity {
			f := get(id)
			if f.EntityRank == 0 {
				f.EntityRank = i + 1
				f.Score += w.Entity / float64(k+i+1)
			}
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
