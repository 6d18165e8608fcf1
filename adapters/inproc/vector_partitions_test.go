package inproc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// heapInUse is the live heap after two collections.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// fillTenants upserts rows vectors of dim into each of n tenants, in
// batches of 200 (as app.VectorCache pages in), with one category each.
func fillTenants(t testing.TB, x *VectorIndex, n, rows, dim int) []domain.Tenant {
	ctx := context.Background()
	if x.Space().Dimension == 0 {
		if err := x.Bind(ctx, ports.VectorSpace{Model: "m", Dimension: dim}); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	var out []domain.Tenant
	for i := range n {
		tn := domain.Tenant{OrgID: "org", UserID: domain.UserID(fmt.Sprint("user", i))}
		out = append(out, tn)
		for lo := 0; lo < rows; lo += 200 {
			docs := make([]ports.VectorDoc, 0, 200)
			for j := lo; j < min(rows, lo+200); j++ {
				docs = append(docs, ports.VectorDoc{ID: domain.MemoryID(domain.NewID(now)), Vector: randomUnit(r, dim), AppID: "app", Categories: []string{"work"}, CreatedAt: now})
			}
			if err := x.Upsert(ctx, tn, docs); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// TestPartitionBytesTracksTheHeap: the estimate a budget is kept by is
// within 25 % of what the partitions really hold on the heap, and
// dropping a partition gives its memory back.
func TestPartitionBytesTracksTheHeap(t *testing.T) {
	x := NewVectorIndex()
	before := heapInUse()
	tenants := fillTenants(t, x, 4, 5000, 384)
	grown := heapInUse() - before
	var est int64
	for _, tn := range tenants {
		est += x.PartitionBytes(tn)
	}
	t.Logf("4 × 5,000 rows of 384 dimensions: heap %.1f MB, estimate %.1f MB (%.0f bytes a row)", float64(grown)/1e6, float64(est)/1e6, float64(grown)/20000)
	require.InEpsilon(t, float64(grown), float64(est), 0.25)
	for _, tn := range tenants[:3] {
		x.DropPartition(tn)
	}
	left := heapInUse() - before
	require.Less(t, float64(left), 0.4*float64(grown), "three of four partitions dropped")
	require.Equal(t, 5000, x.Len(tenants[3]))
	require.Zero(t, x.Len(tenants[0]))
	runtime.KeepAlive(x)
}

// BenchmarkHeapPer100k reports the heap 100,000 rows of 384 dimensions
// hold in the in-process index (one tenant; 100 tenants of 1,000 alike).
func BenchmarkHeapPer100k(b *testing.B) {
	for _, shape := range []struct{ tenants, rows int }{{1, 100_000}, {100, 1_000}} {
		b.Run(fmt.Sprintf("%dx%d", shape.tenants, shape.rows), func(b *testing.B) {
			var grown, est int64
			for b.Loop() {
				x := NewVectorIndex()
				before := heapInUse()
				tenants := fillTenants(b, x, shape.tenants, shape.rows, 384)
				grown = heapInUse() - before
				est = 0
				for _, tn := range tenants {
					est += x.PartitionBytes(tn)
				}
				runtime.KeepAlive(x)
			}
			b.ReportMetric(float64(grown)/1e6, "heap-MB")
			b.ReportMetric(float64(est)/1e6, "estimate-MB")
			b.ReportMetric(float64(grown)/float64(shape.tenants*shape.rows), "bytes/row")
		})
	}
}
