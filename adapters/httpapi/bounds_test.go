package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// Every bound answers 400 naming the field and the bound, before any store
// call: the over-bound search below would make SQLite refuse the statement.
func TestOverBoundSearchIsAPreciseProblem(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.search = true })
	alice := e.user("acme", "alice")
	alice.add("green tea in the morning")
	many := map[string]any{}
	for i := range domain.MaxFilterKeys + 1 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	cats := make([]string, domain.MaxCategories+1)
	for i := range cats {
		cats[i] = fmt.Sprintf("c%d", i)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
		bound int
	}{
		{map[string]any{"query": "tea", "metadata": many}, "filters.metadata", domain.MaxFilterKeys},
		{map[string]any{"query": "tea", "metadata": map[string]any{"k": strings.Repeat("v", domain.MaxFilterValueBytes+1)}}, "filters.metadata", domain.MaxFilterValueBytes},
		{map[string]any{"query": "tea", "categories": cats}, "categories", domain.MaxCategories},
		{map[string]any{"query": strings.Repeat("tea ", domain.MaxQueryBytes/4+1)}, "query", domain.MaxQueryBytes},
		{map[string]any{"query": "tea", "limit": domain.MaxSearchLimit + 1}, "limit", domain.MaxSearchLimit},
	} {
		rec := alice.do(http.MethodPost, "/api/v1/search", c.body)
		p := requireProblem(t, rec, http.StatusBadRequest)
		require.Equal(t, "urn:engram:problem:invalid", p.Type)
		require.Contains(t, p.Detail, c.field, rec.Body.String())
		require.Contains(t, p.Detail, fmt.Sprint(c.bound), rec.Body.String())
	}
}
