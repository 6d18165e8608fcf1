package domain_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func filterOf(n int, value string) domain.Metadata {
	md := domain.Metadata{}
	for i := range n {
		md[fmt.Sprintf("k%d", i)] = value
	}
	return md
}

// Filters are bounded before any store sees them: the error names the
// field and the bound.
func TestFilterBounds(t *testing.T) {
	ok := domain.SearchFilter{Metadata: filterOf(domain.MaxFilterKeys, strings.Repeat("v", domain.MaxFilterValueBytes))}
	require.NoError(t, ok.Validate())

	var ve *domain.ValidationError
	many := domain.SearchFilter{Metadata: filterOf(domain.MaxFilterKeys+1, "v")}
	require.ErrorAs(t, many.Validate(), &ve)
	require.Equal(t, "filters.metadata", ve.Field)
	require.Contains(t, ve.Reason, fmt.Sprint(domain.MaxFilterKeys))

	long := domain.SearchFilter{Metadata: filterOf(1, strings.Repeat("v", domain.MaxFilterValueBytes+1))}
	require.ErrorAs(t, long.Validate(), &ve)
	require.Contains(t, ve.Reason, fmt.Sprint(domain.MaxFilterValueBytes))

	q := domain.ListQuery{Metadata: filterOf(domain.MaxFilterKeys+1, "v")}
	require.ErrorAs(t, q.Validate(), &ve)
	require.Equal(t, "metadata", ve.Field)
	require.Contains(t, ve.Reason, fmt.Sprint(domain.MaxFilterKeys))
}
