package inproc

import (
	"container/heap"
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// parallelScanRows is the partition size from which one search splits its
// scan across CPUs. Below it the goroutine hand-off costs more than it saves.
const parallelScanRows = 32 << 10

// Search scans the tenant's partition and keeps the k best rows that pass
// the filter.
func (x *VectorIndex) Search(ctx context.Context, t domain.Tenant, q []float32, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	dim, err := x.dim()
	if err != nil {
		return nil, err
	}
	if k < 1 || k > ports.MaxIndexK {
		return nil, fmt.Errorf("inproc: vector search: %w", domain.Invalid("k", "must be between 1 and %d", ports.MaxIndexK))
	}
	if len(q) != dim {
		return nil, fmt.Errorf("inproc: vector search: %w", domain.Invalid("vector", "has %d dimensions, the index holds %d", len(q), dim))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := x.partition(t, false)
	if p == nil {
		return nil, nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := len(p.ids)
	var best []candidate
	if !x.exact && n >= x.qmin {
		best = p.searchQuantized(q, k, f)
	} else {
		best = p.parallel(k, func(lo, hi int) *topK { return p.scan(q, lo, hi, k, f) }).sorted()
	}
	hits := make([]ports.Hit, len(best))
	for i, c := range best {
		hits[i] = ports.Hit{ID: p.ids[c.row], Score: float64(c.score)}
	}
	return hits, nil
}

// parallel splits the rows across CPUs when the partition is big enough to
// pay for the hand-off, and merges the workers' top lists.
func (p *partition) parallel(k int, scan func(lo, hi int) *topK) *topK {
	n := len(p.ids)
	workers := min(runtime.GOMAXPROCS(0), max(1, n/parallelScanRows))
	tops := make([]*topK, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { tops[w] = scan(lo, hi) })
	}
	wg.Wait()
	all := tops[0]
	for _, tk := range tops[1:] {
		for _, c := range tk.c {
			all.offer(c)
		}
	}
	return all
}

// searchQuantized ranks all rows by the int8 dot product, then re-scores the
// best rescoreFactor·k in float32.
func (p *partition) searchQuantized(q []float32, k int, f domain.SearchFilter) []candidate {
	q16, qs := quantizeQuery(q)
	kk := min(len(p.ids), rescoreFactor*k+16)
	approx := p.parallel(kk, func(lo, hi int) *topK { return p.scanQ8(q16, qs, lo, hi, kk, f) })
	exact := &topK{k: k, ids: p.ids, c: make([]candidate, 0, k)}
	for _, c := range approx.c {
		exact.offer(candidate{row: c.row, score: dot(q, p.data[c.row*p.dim:(c.row+1)*p.dim])})
	}
	return exact.sorted()
}

func (p *partition) scanQ8(q16 []int16, qs float32, lo, hi, k int, f domain.SearchFilter) *topK {
	tk := &topK{k: k, ids: p.ids, c: make([]candidate, 0, k)}
	filtered := !f.IsZero()
	dim := p.dim
	for i := lo; i < hi; i++ {
		if filtered {
			m := &p.meta[i]
			if !f.Matches(m.app, m.cats, m.md, m.created) {
				continue
			}
		}
		s := float32(dotI8(p.q8[i*dim:(i+1)*dim], q16)) * p.scales[i] * qs
		if len(tk.c) == tk.k && s < tk.c[0].score {
			continue
		}
		tk.offer(candidate{row: i, score: s})
	}
	return tk
}

func (p *partition) scan(q []float32, lo, hi, k int, f domain.SearchFilter) *topK {
	tk := &topK{k: k, ids: p.ids, c: make([]candidate, 0, k)}
	filtered := !f.IsZero()
	dim := p.dim
	for i := lo; i < hi; i++ {
		if filtered {
			m := &p.meta[i]
			if !f.Matches(m.app, m.cats, m.md, m.created) {
				continue
			}
		}
		s := dot(q, p.data[i*dim:(i+1)*dim])
		// Most rows lose to the current k-th best; test that before any
		// heap work.
		if len(tk.c) == tk.k && s < tk.c[0].score {
			continue
		}
		tk.offer(candidate{row: i, score: s})
	}
	return tk
}

type candidate struct {
	row   int
	score float32
}

// topK keeps the k best candidates in a min-heap whose root is the worst
// kept one. Better means a higher score, then a smaller id, so results are
// deterministic.
type topK struct {
	k   int
	ids []domain.MemoryID
	c   []candidate
}

func (t *topK) Len() int           { return len(t.c) }
func (t *topK) Less(i, j int) bool { return t.worse(t.c[i], t.c[j]) }
func (t *topK) Swap(i, j int)      { t.c[i], t.c[j] = t.c[j], t.c[i] }
func (t *topK) Push(x any)         { t.c = append(t.c, x.(candidate)) }
func (t *topK) Pop() any {
	c := t.c[len(t.c)-1]
	t.c = t.c[:len(t.c)-1]
	return c
}

func (t *topK) worse(a, b candidate) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return t.ids[a.row] > t.ids[b.row]
}

func (t *topK) offer(c candidate) {
	if len(t.c) < t.k {
		heap.Push(t, c)
		return
	}
	if t.worse(t.c[0], c) {
		t.c[0] = c
		heap.Fix(t, 0)
	}
}

// sorted returns the kept candidates best first.
func (t *topK) sorted() []candidate {
	out := append([]candidate(nil), t.c...)
	sort.Slice(out, func(i, j int) bool { return t.worse(out[j], out[i]) })
	return out
}
