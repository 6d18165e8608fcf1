package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestQueryTerms(t *testing.T) {
	cases := map[string][]string{
		"When is the tax report due?":     {"tax", "report", "due"},
		`NEAR(station OR "x" AND NOT -y*`: {"near", "station", "x", "y"},
		"the and or":                      {"the", "and", "or"},
		"Zürich zürich ZÜRICH":            {"zürich"},
		`%_\'^:`:                          {},
		"O'Brien":                         {"o", "brien"},
		"the_underscore 100%":             {"underscore", "100"},
		"":                                {},
		"寿司 が好き":                          {"寿司", "が好き"},
	}
	for q, want := range cases {
		require.Equal(t, want, domain.QueryTerms(q), "query %q", q)
	}
	long := strings.Repeat("word ", 10) + strings.Repeat("x", 0)
	for i := range 40 {
		long += " w" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	require.Len(t, domain.QueryTerms(long), domain.MaxQueryTerms)
}

func TestPhraseWords(t *testing.T) {
	require.Equal(t, []string{"red", "wine", "glass"}, domain.PhraseWords(`"Red wine" glass!`))
	require.Nil(t, domain.PhraseWords("single"))
}

func TestPhraseWordsSkipsQuestions(t *testing.T) {
	require.Len(t, domain.PhraseWords("one two three four five six"), domain.MaxPhraseWords)
	require.Nil(t, domain.PhraseWords("What did the doctor tell Leo about his health?"), "a question is not a quote")
}
