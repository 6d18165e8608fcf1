package inproc_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestSearchEachIsSearchForEachVector (issue 19): a centered search ranks
// the user's vectors for two queries; SearchEach reads the rows once for
// both, and must return exactly what one Search per vector returns, on
// the int8 first pass (split across CPUs or not) and the exact scan, with
// and without a filter.
func TestSearchEachIsSearchForEachVector(t *testing.T) {
	ctx := context.Background()
	const dim = 48
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	for name, o := range map[string]inproc.VectorOptions{
		"int8 first pass": {},
		"exact":           {Exact: true},
	} {
		for _, rows := range []int{300, 5000, 70000} {
			t.Run(fmt.Sprintf("%s/%d rows", name, rows), func(t *testing.T) {
				x := inproc.NewVectorIndexWith(o)
				require.NoError(t, x.Bind(ctx, ports.VectorSpace{Model: "m", Dimension: dim}))
				docs := make([]ports.VectorDoc, rows)
				at := time.Now()
				for i := range docs {
					docs[i] = ports.VectorDoc{ID: domain.NewMemoryID(at), Vector: vec(), AppID: domain.AppID(fmt.Sprintf("app-%d", i%3))}
				}
				require.NoError(t, x.Upsert(ctx, tn, docs))
				qs := [][]float32{vec(), vec(), vec()}
				for _, f := range []domain.SearchFilter{{}, {App: "app-1"}} {
					got, err := x.SearchEach(ctx, tn, qs, 40, f)
					require.NoError(t, err)
					require.Len(t, got, len(qs))
					for i, q := range qs {
						want, err := x.Search(ctx, tn, q, 40, f)
						require.NoError(t, err)
						require.Equal(t, want, got[i], "query %d, filter %+v", i, f)
					}
				}
				none, err := x.SearchEach(ctx, domain.Tenant{OrgID: "o", UserID: "nobody"}, qs, 5, domain.SearchFilter{})
				require.NoError(t, err)
				require.Equal(t, [][]ports.Hit{nil, nil, nil}, none)
			})
		}
	}
}
