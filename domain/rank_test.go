package domain_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestFuseRRFAgreementBeatsOneHead(t *testing.T) {
	// "b" is second in both lists; "a" and "c" each top one list only.
	lex := []domain.MemoryID{"a", "b", "d"}
	vec := []domain.MemoryID{"c", "b", "e"}
	got := domain.FuseRRF(lex, vec, domain.DefaultWeights, 60)
	require.Equal(t, domain.MemoryID("b"), got[0].ID)
	require.InDelta(t, 2.0/62, got[0].Score, 1e-12)
	require.Equal(t, 2, got[0].LexicalRank)
	require.Equal(t, 2, got[0].VectorRank)
	// a and c tie on score and best rank; id order breaks the tie.
	require.Equal(t, []domain.MemoryID{"a", "c"}, []domain.MemoryID{got[1].ID, got[2].ID})
	require.Equal(t, 0, got[1].VectorRank)
	require.Equal(t, 0, got[2].LexicalRank)
	require.Len(t, got, 5)
}

func TestFuseRRFWeightsAndDefaultK(t *testing.T) {
	lex := []domain.MemoryID{"a"}
	vec := []domain.MemoryID{"c"}
	got := domain.FuseRRF(lex, vec, domain.Weights{Lexical: 1, Vector: 3}, 0)
	require.Equal(t, domain.MemoryID("c"), got[0].ID)
	require.InDelta(t, 3.0/61, got[0].Score, 1e-12)
	off := domain.FuseRRF(lex, vec, domain.Weights{Lexical: 1, Vector: 0}, 0)
	require.Equal(t, domain.MemoryID("a"), off[0].ID)
	require.Zero(t, off[1].Score)
}

func TestFuseRRFDuplicateKeepsFirstRank(t *testing.T) {
	got := domain.FuseRRF([]domain.MemoryID{"a", "a", "b"}, nil, domain.DefaultWeights, 60)
	require.Len(t, got, 2)
	require.Equal(t, 1, got[0].LexicalRank)
	require.Equal(t, 3, got[1].LexicalRank)
}

func TestWeightsValidate(t *testing.T) {
	require.NoError(t, domain.DefaultWeights.Validate())
	require.NoError(t, domain.Weights{Lexical: 0, Vector: 10}.Validate())
	for _, w := range []domain.Weights{{-1, 1, 0, 0}, {1, 10.5, 0, 0}, {0, 0, 0, 0}, {math.NaN(), 1, 0, 0}, {1, 1, -1, 0}, {1, 1, 11, 0}, {0, 0, 1, 0}, {1, 1, 0, -1}, {1, 1, 0, 11}} {
		require.ErrorIs(t, w.Validate(), domain.ErrInvalid, "%v", w)
	}
}

func TestMMR(t *testing.T) {
	// 0 and 1 are near duplicates; 2 is different but a little less relevant.
	rel := []float64{1.0, 0.99, 0.8}
	sim := func(i, j int) float64 {
		if (i == 0 && j == 1) || (i == 1 && j == 0) {
			return 0.99
		}
		if i == j {
			return 1
		}
		return 0.1
	}
	require.Equal(t, []int{0, 1, 2}, domain.MMR(rel, sim, 0, 3), "no diversity keeps relevance order")
	require.Equal(t, []int{0, 2, 1}, domain.MMR(rel, sim, 0.5, 3), "diversity demotes the near duplicate")
	require.Equal(t, []int{0, 2}, domain.MMR(rel, sim, 0.5, 2))
	require.Empty(t, domain.MMR(nil, sim, 0.5, 3))
}
