package textfold_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/textfold"
)

func TestWordsFoldCaseAccentsAndStems(t *testing.T) {
	require.Equal(t, []string{"cafe", "adopt", "adopt", "naiv", "x2"}, textfold.Words("Café ADOPTED, adopting: naïve-x2!"))
	require.Empty(t, textfold.Words(" ,.; "))
}

func TestTermsFoldWithoutDuplicates(t *testing.T) {
	require.Equal(t, []string{"cafe", "adopt", "new", "york"}, textfold.Terms([]string{"Café", "cafe", "adopted", "New York", "adopting"}))
	require.Empty(t, textfold.Terms(nil))
}
