package app

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueryEntityKeys(t *testing.T) {
	keys := queryEntityKeys("What does Maya's brother Daniel do at the Bank of America?")
	for _, k := range []string{"maya", "daniel", "bank of america", "brother daniel", "maya brother", "america"} {
		require.Contains(t, keys, k)
	}
	for _, k := range []string{"what", "the", "of", "the bank", "does maya", "at the bank"} {
		require.NotContains(t, keys, k)
	}
	require.Empty(t, queryEntityKeys("what is the?"))
	long := ""
	for range 200 {
		long += "word "
	}
	require.Equal(t, []string{"word", "word word", "word word word"}, queryEntityKeys(long), "each key once")
	many := ""
	for i := range 200 {
		many += string(rune('a'+i%26)) + string(rune('a'+i/26)) + "x "
	}
	require.Len(t, queryEntityKeys(many), entityQueryKeys, "bounded")
}
