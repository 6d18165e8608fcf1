package inproc

import (
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
	hs, err := x.SearchEach(ctx, t, [][]float32{q}, k, f)
	if err != nil {
		return nil, err
	}
	return hs[0], nil
}

var _ ports.VectorMultiSearcher = (*VectorIndex)(nil)

// SearchEach is Search for each of qs, in one pass over the partition: each
// row is read once and scored against every query. A centered search ranks
// for two queries (app.SearchService.vector), and at 100,000 rows of 384
// dimensions the scan is bound by memory bandwidth, not by the dot
// products (issue 19).
func (x *VectorIndex) SearchEach(ctx context.Context, t domain.Tenant, qs [][]float32, k int, f domain.SearchFilter) ([][]ports.Hit, error) {
	dim, err := x.dim()
	if err != nil {
		return nil, err
	}
	if k < 1 || k > ports.MaxIndexK {
		return nil, fmt.Errorf("inproc: vector search: %w", domain.Invalid("k", "must be between 1 and %d", ports.MaxIndexK))
	}
	for _, q := range qs {
		if len(q) != dim {
			return nil, fmt.Errorf("inproc: vector search: %w", domain.Invalid("vector", "has %d dimensions, the index holds %d", len(q), dim))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]ports.Hit, len(qs))
	p := x.partition(t, false)
	if p == nil {
		return out, nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	var best [][]candidate
	if !x.exact && len(p.ids) >= x.qmin {
		best = p.searchQuantized(qs, k, f)
	} else {
		tops := p.parallel(func(lo, hi int) []*topK { return p.scan(qs, lo, hi, k, f) })
		best = make([][]candidate, len(qs))
		for j, tk := range tops {
			best[j] = tk.sorted()
		}
	}
	for j, cs := range best {
		hits := make([]ports.Hit, len(cs))
		for i, c := range cs {
			hits[i] = ports.Hit{ID: p.ids[c.row], Score: float64(c.score)}
		}
		out[j] = hits
	}
	return out, nil
}

// parallel splits the rows across CPUs when the partition is big enough to
// pay for the hand-off, and merges the workers' top lists, one per query.
func (p *partition) parallel(scan func(lo, hi int) []*topK) []*topK {
	n := len(p.ids)
	workers := min(runtime.GOMAXPROCS(0), max(1, n/parallelScanRows))
	tops := make([][]*topK, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { tops[w] = scan(lo, hi) })
	}
	wg.Wait()
	all := tops[0]
	for _, tks := range tops[1:] {
		for j, tk := range tks {
			for _, c := range tk.c {
				all[j].offer(c)
			}
		}
	}
	return all
}

// searchQuantized ranks all rows by the int8 dot product, then re-scores the
// best rescoreFactor·k in float32, for each query.
func (p *partition) searchQuantized(qs [][]float32, k int, f domain.SearchFilter) [][]candidate {
	q16s, scales := make([][]int16, len(qs)), make([]float32, len(qs))
	for j, q := range qs {
		q16s[j], scales[j] = quantizeQuery(q)
	}
	kk := min(len(p.ids), rescoreFactor*k+16)
	approx := p.parallel(func(lo, hi int) []*topK { return p.scanQ8(q16s, scales, lo, hi, kk, f) })
	out := make([][]candidate, len(qs))
	for j, q := range qs {
		exact := &topK{k: k, ids: p.ids, c: make([]candidate, 0, k)}
		for _, c := range approx[j].c {
			exact.offer(candidate{row: c.row, score: dot(q, p.data[c.row*p.dim:(c.row+1)*p.dim])})
		}
		out[j] = exact.sorted()
	}
	return out
}

func (p *partition) topKs(queries, k int) []*topK {
	tks := make([]*topK, queries)
	for j := range tks {
		tks[j] = &topK{k: k, ids: p.ids, c: make([]candidate, 0, k)}
	}
	return tks
}

func (p *partition) scanQ8(q16s [][]int16, qs []float32, lo, hi, k int, f domain.SearchFilter) []*topK {
	tks := p.topKs(len(q16s), k)
	filtered := !f.IsZero()
	dim := p.dim
	for i := lo; i < hi; i++ {
		if filtered {
			m := &p.meta[i]
			if !f.Matches(m.app, m.cats, m.md, m.created) {
				continue
			}
		}
		row := p.q8[i*dim : (i+1)*dim]
		if len(tks) == 2 { // a centered search: one kernel for both queries
			d0, d1 := dotI8Pair(row, q16s[0], q16s[1])
			tks[0].offerScore(i, float32(d0)*p.scales[i]*qs[0])
			tks[1].offerScore(i, float32(d1)*p.scales[i]*qs[1])
			continue
		}
		for j, tk := range tks {
			tk.offerScore(i, float32(dotI8(row, q16s[j]))*p.scales[i]*qs[j])
		}
	}
	return tks
}

func (p *partition) scan(qs [][]float32, lo, hi, k int, f domain.SearchFilter) []*topK {
	tks := p.topKs(len(qs), k)
	filtered := !f.IsZero()
	dim := p.dim
	for i := lo; i < hi; i++ {
		if filtered {
			m := &p.meta[i]
			if !f.Matches(m.app, m.cats, m.md, m.created) {
				continue
			}
		}
		row := p.data[i*dim : (i+1)*dim]
		for j, tk := range tks {
			tk.offerScore(i, dot(qs[j], row))
		}
	}
	return tks
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

func (t *topK) worse(a, b candidate) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return t.ids[a.row] > t.ids[b.row]
}

// offerScore offers row i scored s. Most rows lose to the current k-th
// best; that is tested before any heap work.
func (t *topK) offerScore(i int, s float32) {
	if len(t.c) == t.k && s < t.c[0].score {
		return
	}
	t.offer(candidate{row: i, score: s})
}

func (t *topK) offer(c candidate) {
	if len(t.c) < t.k {
		t.c = append(t.c, c)
		t.up(len(t.c) - 1)
		return
	}
	if t.worse(t.c[0], c) {
		t.c[0] = c
		t.down(0)
	}
}

// up and down keep the min-heap, as container/heap would, without its
// interface calls: a scan offers thousands of rows a search.
func (t *topK) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !t.worse(t.c[j], t.c[i]) {
			return
		}
		t.c[i], t.c[j] = t.c[j], t.c[i]
		j = i
	}
}

func (t *topK) down(i int) {
	n := len(t.c)
	for {
		j := 2*i + 1
		if j >= n {
			return
		}
		if r := j + 1; r < n && t.worse(t.c[r], t.c[j]) {
			j = r
		}
		if !t.worse(t.c[j], t.c[i]) {
			return
		}
		t.c[i], t.c[j] = t.c[j], t.c[i]
		i = j
	}
}

// sorted returns the kept candidates best first.
func (t *topK) sorted() []candidate {
	out := append([]candidate(nil), t.c...)
	sort.Slice(out, func(i, j int) bool { return t.worse(out[j], out[i]) })
	return out
}
