package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestFusionGatesQuestionsOnly(t *testing.T) {
	s := &SearchService{d: SearchDeps{RRFK: 60, VectorTrust: VectorTrustFor("local-hash-v1-384"), ShortQuery: DefaultShortQuery,
		GapBoost: 1, PinGap: DefaultPinGap}}
	w := domain.Weights{Lexical: 1, Vector: 1}

	kw := s.fusion("penicillin allergy", w)
	require.Equal(t, domain.Fusion{K: 60, Weights: w}, kw, "a keyword query is plain weighted RRF")

	q := s.fusion("What did the doctor tell Leo about his health and what is he doing?", w)
	require.InDelta(t, LocalVectorTrust, q.Weights.Vector, 1e-12)
	require.Equal(t, 1.0, q.Weights.Lexical)
	require.Equal(t, DefaultPinGap, q.PinGap)
	require.Equal(t, 1.0, q.GapBoost)

	only := s.fusion("What did the doctor tell Leo about his health and what is he doing?", domain.Weights{Vector: 1})
	require.Equal(t, 1.0, only.Weights.Vector, "without a lexical side there is nothing to trust less than")

	s.d.VectorTrust = VectorTrustFor("text-embedding-3-small")
	require.Equal(t, 1.0, s.fusion("What did the doctor tell Leo about his health and what is he doing?", w).Weights.Vector)
}
