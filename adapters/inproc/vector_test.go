package inproc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestVectorIndexContract(t *testing.T) {
	contracttest.RunVectorIndex(t, func(t *testing.T) ports.VectorIndex { return inproc.NewVectorIndex() })
}

func TestVectorIndexCentroidFollowsWrites(t *testing.T) {
	ctx := context.Background()
	x := inproc.NewVectorIndex()
	require.NoError(t, x.Bind(ctx, ports.VectorSpace{Model: "m", Dimension: 2}))
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	c, n, err := x.Centroid(ctx, tn)
	require.NoError(t, err)
	require.Nil(t, c)
	require.Zero(t, n)
	a, b := domain.NewMemoryID(time.Now()), domain.NewMemoryID(time.Now())
	require.NoError(t, x.Upsert(ctx, tn, []ports.VectorDoc{{ID: a, Vector: []float32{1, 0}}, {ID: b, Vector: []float32{0, 1}}}))
	c, n, _ = x.Centroid(ctx, tn)
	require.Equal(t, 2, n)
	require.InDeltaSlice(t, []float32{0.5, 0.5}, c, 1e-6)
	require.NoError(t, x.Upsert(ctx, tn, []ports.VectorDoc{{ID: a, Vector: []float32{0, 1}}}), "replacing subtracts the old vector")
	c, _, _ = x.Centroid(ctx, tn)
	require.InDeltaSlice(t, []float32{0, 1}, c, 1e-6)
	require.NoError(t, x.Delete(ctx, tn, []domain.MemoryID{b}))
	c, n, _ = x.Centroid(ctx, tn)
	require.Equal(t, 1, n)
	require.InDeltaSlice(t, []float32{0, 1}, c, 1e-6)
}

// TestVectorIndexContractQuantized runs the suite with the int8 first pass
// on for every partition size.
func TestVectorIndexContractQuantized(t *testing.T) {
	contracttest.RunVectorIndex(t, func(t *testing.T) ports.VectorIndex {
		return inproc.NewVectorIndexWith(inproc.VectorOptions{QuantMinRows: 1})
	})
}
