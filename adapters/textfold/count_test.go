package textfold_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/textfold"
)

// CountASCII must count what Words yields: the SQLite index ranks with
// term frequencies counted by it and document lengths from FTS5, and the
// two agree only if both see the same words.
func TestCountASCIIAgreesWithWords(t *testing.T) {
	texts := []string{
		"memory 42: the user prefers topic 42 in the morning and tea number 5",
		"Tea, TEA and teas; adopted adopting adoption -- x1y2 42nd 42",
		"  ",
		"running runner runs ran; generously generous generosity dying lying skies",
		"a-b_c.d/e'f\"g",
	}
	for _, text := range texts {
		words := textfold.Words(text)
		want := map[string]int{}
		for _, w := range words {
			want[w]++
		}
		terms := []string{"tea", "42", "adopt", "run", "generous", "die", "sky", "absent"}
		counts := make([]int, len(terms))
		n, ok := textfold.Stems{}.CountASCII(text, terms, counts)
		require.True(t, ok, text)
		require.Equal(t, len(words), n, text)
		for i, term := range terms {
			require.Equal(t, want[term], counts[i], "%q in %q", term, text)
		}
	}
}

func TestCountASCIIRefusesOtherText(t *testing.T) {
	counts := make([]int, 1)
	_, ok := textfold.Stems{}.CountASCII("café au lait", []string{"cafe"}, counts)
	require.False(t, ok, "non-ASCII text folds through NFKD and FTS5's own tables; the caller must not trust a count")
}

// HoldsPhraseASCII must agree with FTS5's phrase match over Words: the
// phrase's words at consecutive positions.
func TestHoldsPhraseASCII(t *testing.T) {
	for _, c := range []struct {
		text   string
		phrase string
		holds  bool
	}{
		{"We drank Tea in the Morning, every day", "tea in the morning", true},
		{"tea, in. the; morning", "tea in the morning", true},
		{"tea in a morning", "tea in the morning", false},
		{"morning tea in the", "tea in the morning", false},
		{"tea tea in the mornings", "tea in the morning", true},
		{"adopted cats", "adopting cat", true},
		{"", "tea in", false},
	} {
		holds, ok := textfold.Stems{}.HoldsPhraseASCII(c.text, textfold.Words(c.phrase))
		require.True(t, ok)
		require.Equal(t, c.holds, holds, "%q in %q", c.phrase, c.text)
	}
	_, ok := textfold.Stems{}.HoldsPhraseASCII("tea at the café", []string{"tea", "at"})
	require.False(t, ok)
}
