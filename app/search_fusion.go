package app

import (
	"strings"

	"github.com/engram-memory/engram/domain"
)

// Fusion defaults, chosen on the development half of testdata/conv and
// checked on its held-out half (docs/search.md has the figures and the
// commands). TestEvalHybridNeverLosesToItsParts guards them.
const (
	// DefaultGapBoost: a ranking whose first hit stands out counts up to
	// (1 + DefaultGapBoost)× its base weight.
	DefaultGapBoost = 0.0
	// DefaultPinGap: a ranking whose first score is this far above its
	// third, while the other's is not, keeps its first hit first.
	DefaultPinGap = 0.4
	// DefaultShortQuery: a query of at most this many words (after stop
	// words) is a keyword query, not a question.
	DefaultShortQuery = 4
	// LocalVectorTrust is the local hashing embedder's vote next to BM25.
	LocalVectorTrust = 0.1
)

// VectorTrustFor is the default VectorTrust of an embedder model: the local
// hashing embedder ("local-hash-…") mostly repeats what BM25 found, with
// more noise, so it weighs LocalVectorTrust; a model embedder weighs 1.
func VectorTrustFor(model string) float64 {
	if strings.HasPrefix(model, "local-hash-") {
		return LocalVectorTrust
	}
	return 1
}

// fusion is the domain.Fusion of one hybrid search for query with weights
// w. A keyword query (at most ShortQuery words after stop words) is fused by
// plain weighted RRF: there BM25 misses other word forms and misspellings
// that the embedder's character n-grams catch. A question gets the vector
// trust and the per-query signals: on many words the hashing embedder's
// vector is a blur of them all, which BM25's IDF weighting beats.
func (s *SearchService) fusion(query string, w domain.Weights) domain.Fusion {
	f := domain.Fusion{K: s.d.RRFK, Weights: w}
	if len(domain.QueryTerms(query)) <= s.d.ShortQuery {
		return f
	}
	f.GapBoost, f.PinGap = max(0, s.d.GapBoost), max(0, s.d.PinGap)
	if s.d.VectorTrust > 0 && w.Lexical > 0 {
		// A vector-only search is the vector ranking whatever the trust.
		f.Weights.Vector *= s.d.VectorTrust
	}
	return f
}
