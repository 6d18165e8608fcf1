package inproc

import (
	"unsafe"

	"github.com/engram-memory/engram/domain"
)

// rowOverhead estimates what a row costs beyond its slabs (vector, int8
// copy, scale, id header, metadata struct): the id's 36 bytes and its
// entry in the position map. Categories and metadata maps vary and are not
// counted; TestPartitionBytesTracksTheHeap checks the estimate against the
// heap.
const rowOverhead = 36 + 64

// PartitionBytes estimates the memory the tenant's partition holds (0 when
// it has none), from the capacities of its slabs, so that a cache of
// partitions (app.VectorCache) can keep to a budget.
func (x *VectorIndex) PartitionBytes(t domain.Tenant) int64 {
	p := x.partition(t, false)
	if p == nil {
		return 0
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return int64(cap(p.data))*4 + int64(cap(p.q8)) + int64(cap(p.scales))*4 + int64(cap(p.sum))*8 +
		int64(cap(p.ids))*int64(unsafe.Sizeof(domain.MemoryID(""))) + int64(cap(p.meta))*int64(unsafe.Sizeof(vectorMeta{})) +
		int64(len(p.ids))*rowOverhead
}

// DropPartition forgets the tenant's vectors (the store still has the
// memories; app.VectorCache loads them again on demand).
func (x *VectorIndex) DropPartition(t domain.Tenant) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.parts, t)
}
