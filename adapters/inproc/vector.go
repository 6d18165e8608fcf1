package inproc

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// VectorIndex is an exact in-memory vector index. Each tenant's vectors sit
// in one contiguous float32 slab (its partition), so a search scans only that
// tenant's rows, sequentially, at close to memory bandwidth. Exact search
// needs no tuning and has perfect recall; at 100k vectors of 384 dimensions
// per user a scan costs a few milliseconds, which is the embedded profile's
// scale. The index is rebuilt from the store at start (app.Reindexer).
type VectorIndex struct {
	mu    sync.RWMutex
	space ports.VectorSpace
	parts map[domain.Tenant]*partition
	exact bool
	qmin  int
}

// VectorOptions tune a VectorIndex.
type VectorOptions struct {
	// Exact turns off the int8 first pass: every row is scored in float32.
	Exact bool
	// QuantMinRows is the partition size from which the int8 first pass
	// runs; 0 means 4096.
	QuantMinRows int
}

// NewVectorIndexWith returns an empty, unbound index with options.
func NewVectorIndexWith(o VectorOptions) *VectorIndex {
	x := NewVectorIndex()
	x.exact = o.Exact
	if o.QuantMinRows > 0 {
		x.qmin = o.QuantMinRows
	}
	return x
}

var _ ports.VectorIndex = (*VectorIndex)(nil)

// NewVectorIndex returns an empty, unbound index.
func NewVectorIndex() *VectorIndex {
	return &VectorIndex{parts: map[domain.Tenant]*partition{}, qmin: quantMinRows}
}

// partition holds one tenant's rows. Row i is data[i*dim:(i+1)*dim].
type partition struct {
	mu   sync.RWMutex
	dim  int
	data []float32
	ids  []domain.MemoryID
	meta []vectorMeta
	pos  map[domain.MemoryID]int
	sum  []float64 // running sum of the rows, for Centroid
	// q8 and scales are the rows quantised to int8, for the first pass.
	q8     []int8
	scales []float32
}

type vectorMeta struct {
	app     domain.AppID
	cats    []string
	md      domain.Metadata
	created time.Time
}

// Bind records the space on first use and refuses another one afterwards.
func (x *VectorIndex) Bind(_ context.Context, s ports.VectorSpace) error {
	if s.Model == "" || s.Dimension <= 0 {
		return fmt.Errorf("inproc: bind vector index: %w", domain.Invalid("space", "needs a model and a positive dimension"))
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.space.Dimension == 0 {
		x.space = s
		return nil
	}
	if x.space != s {
		return fmt.Errorf("inproc: vector index holds %s (%d dimensions), not %s (%d dimensions); run `engram reindex` to rebuild it for the new model: %w",
			x.space.Model, x.space.Dimension, s.Model, s.Dimension, domain.ErrConflict)
	}
	return nil
}

// Space returns the bound space (zero before Bind).
func (x *VectorIndex) Space() ports.VectorSpace {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.space
}

func (x *VectorIndex) dim() (int, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.space.Dimension == 0 {
		return 0, fmt.Errorf("inproc: vector index used before Bind: %w", domain.ErrConflict)
	}
	return x.space.Dimension, nil
}

// partition returns the tenant's partition, creating it when create is set.
func (x *VectorIndex) partition(t domain.Tenant, create bool) *partition {
	x.mu.RLock()
	p := x.parts[t]
	x.mu.RUnlock()
	if p != nil || !create {
		return p
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if p = x.parts[t]; p == nil {
		p = &partition{dim: x.space.Dimension, pos: map[domain.MemoryID]int{}}
		x.parts[t] = p
	}
	return p
}

// Upsert inserts or replaces rows; all vectors are checked before any is
// written so a bad one leaves the partition unchanged.
func (x *VectorIndex) Upsert(_ context.Context, t domain.Tenant, docs []ports.VectorDoc) error {
	dim, err := x.dim()
	if err != nil {
		return err
	}
	for _, d := range docs {
		if len(d.Vector) != dim {
			return fmt.Errorf("inproc: upsert %s: %w", d.ID, domain.Invalid("vector", "has %d dimensions, the index holds %d", len(d.Vector), dim))
		}
	}
	if len(docs) == 0 {
		return nil
	}
	p := x.partition(t, true)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reserve(len(docs), dim)
	for _, d := range docs {
		m := vectorMeta{app: d.AppID, cats: slices.Clone(d.Categories), md: d.Metadata, created: d.CreatedAt}
		p.addSum(d.Vector, 1)
		if i, ok := p.pos[d.ID]; ok {
			p.addSum(p.data[i*dim:(i+1)*dim], -1)
			copy(p.data[i*dim:(i+1)*dim], d.Vector)
			p.scales[i] = quantize(d.Vector, p.q8[i*dim:(i+1)*dim])
			p.meta[i] = m
			continue
		}
		p.pos[d.ID] = len(p.ids)
		p.ids = append(p.ids, d.ID)
		p.meta = append(p.meta, m)
		p.data = append(p.data, d.Vector...)
		p.q8 = append(p.q8, make([]int8, dim)...)
		p.scales = append(p.scales, quantize(d.Vector, p.q8[len(p.q8)-dim:]))
	}
	return nil
}

// reserve makes room for n more rows at least doubling the slabs: append
// alone grows a large slice by a quarter at a time, and an import of 20k
// memories spent 290 ms of its 370 ms of upserts copying and clearing the
// vector slab as it grew. The capacity not yet written is address space,
// not resident memory: fresh pages from the OS are touched only as rows
// fill them.
func (p *partition) reserve(n, dim int) {
	if need := len(p.data) + n*dim; need > cap(p.data) {
		grown := make([]float32, len(p.data), max(need, 2*cap(p.data)))
		copy(grown, p.data)
		p.data = grown
	}
	if need := len(p.q8) + n*dim; need > cap(p.q8) {
		grown := make([]int8, len(p.q8), max(need, 2*cap(p.q8)))
		copy(grown, p.q8)
		p.q8 = grown
	}
}

// Delete removes rows by moving the last row into each hole, keeping the slab
// dense so scans never skip tombstones.
func (x *VectorIndex) Delete(_ context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	p := x.partition(t, false)
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		i, ok := p.pos[id]
		if !ok {
			continue
		}
		last := len(p.ids) - 1
		p.addSum(p.data[i*p.dim:(i+1)*p.dim], -1)
		if i != last {
			copy(p.data[i*p.dim:(i+1)*p.dim], p.data[last*p.dim:(last+1)*p.dim])
			copy(p.q8[i*p.dim:(i+1)*p.dim], p.q8[last*p.dim:(last+1)*p.dim])
			p.scales[i] = p.scales[last]
			p.ids[i], p.meta[i] = p.ids[last], p.meta[last]
			p.pos[p.ids[i]] = i
		}
		p.ids, p.meta, p.data = p.ids[:last], p.meta[:last], p.data[:last*p.dim]
		p.q8, p.scales = p.q8[:last*p.dim], p.scales[:last]
		delete(p.pos, id)
	}
	return nil
}

func (p *partition) addSum(v []float32, sign float64) {
	if p.sum == nil {
		p.sum = make([]float64, p.dim)
	}
	for i, x := range v {
		p.sum[i] += sign * float64(x)
	}
}

// Centroid is the mean of the tenant's vectors and how many there are. The
// search service subtracts it from the query: features every memory of the
// user shares — their own name, say — then stop dominating similarity,
// which is what IDF does for BM25.
func (x *VectorIndex) Centroid(_ context.Context, t domain.Tenant) ([]float32, int, error) {
	p := x.partition(t, false)
	if p == nil {
		return nil, 0, nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.ids) == 0 {
		return nil, 0, nil
	}
	c := make([]float32, p.dim)
	inv := 1 / float64(len(p.ids))
	for i, s := range p.sum {
		c[i] = float32(s * inv)
	}
	return c, len(p.ids), nil
}

// Len counts the tenant's rows.
func (x *VectorIndex) Len(t domain.Tenant) int {
	p := x.partition(t, false)
	if p == nil {
		return 0
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.ids)
}
