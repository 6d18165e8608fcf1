package domain_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func rk(pairs ...any) []domain.Ranked {
	var out []domain.Ranked
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, domain.Ranked{ID: domain.MemoryID(pairs[i].(string)), Score: pairs[i+1].(float64)})
	}
	return out
}

func fusedIDs(fs []domain.Fused) []domain.MemoryID {
	out := make([]domain.MemoryID, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func TestConfidence(t *testing.T) {
	require.Zero(t, domain.Confidence(nil))
	require.Zero(t, domain.Confidence(rk("a", -0.2, "b", -0.3, "c", -0.4)), "a first score ≤ 0 is no confidence")
	require.Equal(t, 1.0, domain.Confidence(rk("a", 3.0, "b", 2.0)), "fewer than three hits: sure")
	require.InDelta(t, 0.5, domain.Confidence(rk("a", 10.0, "b", 9.0, "c", 5.0, "d", 1.0)), 1e-9)
	require.InDelta(t, 0.02, domain.Confidence(rk("a", 10.0, "b", 9.9, "c", 9.8)), 1e-9, "a flat head")
}

func TestFuseWithoutSignalsIsWeightedRRF(t *testing.T) {
	lex := rk("a", 9.0, "b", 8.0, "c", 7.0)
	vec := rk("c", 0.9, "d", 0.8, "a", 0.7)
	w := domain.Weights{Lexical: 1, Vector: 0.5}
	got := domain.Fuse(lex, vec, domain.Fusion{K: 60, Weights: w})
	want := domain.FuseRRF([]domain.MemoryID{"a", "b", "c"}, []domain.MemoryID{"c", "d", "a"}, w, 60)
	require.Equal(t, fusedIDs(want), fusedIDs(got))
	best := 1.5 / 61
	for i := range got {
		require.InDelta(t, want[i].Score/best, got[i].Score, 1e-12, "normalised by the best possible score")
	}
	require.InDelta(t, 1, domain.Fuse(rk("a", 1.0), rk("a", 1.0), domain.Fusion{Weights: w})[0].Score, 1e-12)
}

func TestFusePinKeepsTheSureRankingsFirstHit(t *testing.T) {
	// Lexical is sure of x (its third score is a fifth of its first); the
	// vector ranking's head is flat and puts y first, x far down.
	lex := rk("x", 10.0, "y", 3.0, "z", 2.0)
	vec := rk("y", 0.50, "z", 0.49, "w", 0.48, "v", 0.47, "x", 0.46)
	f := domain.Fusion{K: 60, Weights: domain.Weights{Lexical: 1, Vector: 1}}
	require.Equal(t, domain.MemoryID("y"), domain.Fuse(lex, vec, f)[0].ID, "plain RRF: agreement on y wins")
	f.PinGap = 0.5
	got := domain.Fuse(lex, vec, f)
	require.Equal(t, []domain.MemoryID{"x", "y", "z"}, fusedIDs(got)[:3])
	for i := 1; i < len(got); i++ {
		require.LessOrEqual(t, got[i].Score, got[i-1].Score, "scores stay non-increasing")
	}
	// Both sure: no fallback, RRF decides.
	sureVec := rk("y", 0.9, "z", 0.2, "w", 0.1)
	require.Equal(t, domain.MemoryID("y"), domain.Fuse(lex, sureVec, f)[0].ID)
}

func TestFuseGapBoostShiftsWeightToTheSureRanking(t *testing.T) {
	lex := rk("a", 10.0, "b", 9.9, "c", 9.8) // flat: unsure
	vec := rk("b", 0.9, "a", 0.1, "c", 0.05) // sure of b
	f := domain.Fusion{K: 60, Weights: domain.Weights{Lexical: 1, Vector: 0.5}}
	require.Equal(t, domain.MemoryID("a"), domain.Fuse(lex, vec, f)[0].ID)
	f.GapBoost = 2
	require.Equal(t, domain.MemoryID("b"), domain.Fuse(lex, vec, f)[0].ID)
}

func TestFuseOneEmptyRankingIsTheOther(t *testing.T) {
	lex := rk("a", 2.0, "b", 1.0)
	got := domain.Fuse(lex, nil, domain.Fusion{Weights: domain.Weights{Lexical: 1, Vector: 1}, PinGap: 0.4})
	require.Equal(t, []domain.MemoryID{"a", "b"}, fusedIDs(got))
	require.InDelta(t, 1, got[0].Score, 1e-12, "normalised over the ranking that returned something")
}

func TestFuseEntity(t *testing.T) {
	lex, vec := rk("a", 3.0, "b", 2.0, "c", 1.0), rk("a", 0.9, "b", 0.5)
	w := domain.Weights{Lexical: 1, Vector: 1, Entity: 1.5}
	f := domain.Fusion{K: 60, Weights: w, PinGap: 0.4}
	require.Equal(t, domain.Fuse(lex, vec, f), domain.FuseEntity(lex, vec, nil, f), "an empty entity ranking changes nothing")

	got := domain.FuseEntity(lex, vec, rk("a", 1.0, "z", 0.5), f)
	require.Equal(t, domain.MemoryID("a"), got[0].ID)
	require.Equal(t, 1, got[0].EntityRank)
	require.InDelta(t, 1, got[0].Score, 1e-12, "first everywhere scores 1")
	var z domain.Fused
	for _, x := range got {
		if x.ID == "z" {
			z = x
		}
	}
	require.Equal(t, 2, z.EntityRank)
	require.Zero(t, z.LexicalRank)
	require.InDelta(t, (1.5/62)/(3.5/61), z.Score, 1e-12)

	w.Entity = 0
	f.Weights = w
	require.Equal(t, domain.Fuse(lex, vec, f), domain.FuseEntity(lex, vec, rk("z", 1.0), f), "weight 0 leaves it out")

	// On equal scores, a memory only the entity ranking found ranks after
	// one the others found.
	eq := domain.FuseEntity(rk("a", 1.0), nil, rk("b", 1.0), domain.Fusion{K: 60, Weights: domain.Weights{Lexical: 1, Entity: 1}})
	require.Equal(t, []domain.MemoryID{"a", "b"}, []domain.MemoryID{eq[0].ID, eq[1].ID})
}
