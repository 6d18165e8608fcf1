package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Search runs the request for the principal and records the reads under
// actor (the token's client when empty).
func (s *SearchService) Search(ctx context.Context, p domain.Principal, req SearchRequest, actor domain.AppID) (SearchResult, error) {
	if err := p.Require(domain.ScopeMemoriesRead); err != nil {
		return SearchResult{}, err
	}
	if err := req.Validate(); err != nil {
		return SearchResult{}, err
	}
	t := p.Tenant()
	res := SearchResult{QueryID: domain.NewID(s.d.Clock.Now()), Mode: req.Mode, Results: []SearchHit{}}
	// Over-fetch: hydration drops stale entries, min_score and MMR need
	// choice, and fusion needs depth in both lists to find agreement.
	depth := min(ports.MaxIndexK, max(4*req.Limit, 50))
	if req.Where != nil || req.Filter.HasTime() {
		// The indexes cannot apply an expression, nor vector indexes the
		// time bounds; hydration drops what fails them, so the
		// candidates must run deeper.
		depth = ports.MaxIndexK
	}

	// A ranking weighted 0 in hybrid mode is not run at all.
	wantLex := req.Mode != domain.SearchVector && s.d.Text != nil && (req.Mode == domain.SearchLexical || req.Weights.Lexical > 0)
	wantVec := req.Mode != domain.SearchLexical && s.d.Vectors != nil && (req.Mode == domain.SearchVector || req.Weights.Vector > 0)
	if !wantLex && !wantVec {
		return SearchResult{}, domain.Invalid("mode", "%s search is not configured on this server", req.Mode)
	}
	var lex, vec []domain.Ranked
	var cos map[domain.MemoryID]float64
	var lexErr, vecErr, entErr error
	var wg sync.WaitGroup
	// The entity ranking's first half needs only the query: it runs
	// beside the other two.
	wantEnt := req.Mode == domain.SearchHybrid && req.Weights.Entity > 0 && s.d.Entities != nil
	var named namedEntities
	if wantEnt {
		wg.Go(func() { named, entErr = s.queryEntities(ctx, t, req.Query) })
	}
	if wantLex {
		wg.Go(func() { lex, lexErr = s.lexical(ctx, t, req, depth) })
	}
	if wantVec {
		wg.Go(func() { vec, cos, vecErr = s.vector(ctx, t, req, depth) })
	}
	wg.Wait()

	w := *req.Weights
	if wantLex && lexErr != nil {
		if !wantVec || vecErr != nil || !isDegradable(lexErr) {
			return SearchResult{}, fmt.Errorf("search: lexical ranking: %w", lexErr)
		}
		s.d.Logger.WarnContext(ctx, "search degraded: lexical ranking failed", "err", lexErr)
		res.Degraded, w.Lexical = append(res.Degraded, "lexical"), 0
	}
	if wantVec && vecErr != nil {
		if !wantLex || lexErr != nil || !isDegradable(vecErr) {
			return SearchResult{}, fmt.Errorf("search: vector ranking: %w", vecErr)
		}
		s.d.Logger.WarnContext(ctx, "search degraded: vector ranking failed", "err", vecErr)
		res.Degraded, w.Vector = append(res.Degraded, "vector"), 0
	}
	// Single modes weigh their one ranking 1; a ranking that did not run
	// weighs nothing, so scores stay normalised over what ran.
	switch {
	case req.Mode == domain.SearchLexical:
		w.Lexical = 1
	case req.Mode == domain.SearchVector:
		w.Vector = 1
	}
	if !wantLex {
		w.Lexical = 0
	}
	if !wantVec {
		w.Vector = 0
	}
	f := s.fusion(req.Query, w)
	fused := domain.Fuse(lex, vec, f)
	// base is the sum of the weights the fused scores are normalised by
	// (GapBoost's per-query shift aside), for the time rankings below.
	var base float64
	if len(lex) > 0 {
		base += f.Weights.Lexical
	}
	if len(vec) > 0 {
		base += f.Weights.Vector
	}
	var err error
	if wantEnt && len(fused) > 0 {
		// The third ranking expands what the first two found; it never
		// fails a search.
		var ent []domain.Ranked
		err := entErr
		if err == nil {
			ent, err = s.expandEntities(ctx, t, named, fused, req.Filter)
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return SearchResult{}, fmt.Errorf("search: entity ranking: %w", err)
		case err != nil:
			s.d.Logger.WarnContext(ctx, "search degraded: entity ranking failed", "err", err)
			res.Degraded = append(res.Degraded, "entity")
		case len(ent) > 0:
			fused = domain.FuseEntity(lex, vec, ent, f)
			base += f.Weights.Entity
		}
	}
	// Time (issue 18): recency and a date the query names, each one more
	// ranking of the candidates found; off unless asked for or dated.
	if fused, err = s.timeRankings(ctx, t, req.Query, fused, w, base); err != nil {
		return SearchResult{}, fmt.Errorf("search: time ranking: %w", err)
	}
	sim := similarity(req.Query, cos, w.Vector > 0)
	hits, err := s.hydrate(ctx, t, fused, req, sim)
	if err != nil {
		return SearchResult{}, err
	}
	res.Results = hits
	if s.d.Reads != nil && len(hits) > 0 {
		ms := make([]domain.Memory, len(hits))
		for i, h := range hits {
			ms[i] = h.Memory
		}
		s.d.Reads.RecordAccess(ctx, p, actor, domain.AccessSearch, ms...)
	}
	return res, nil
}

func (s *SearchService) lexical(ctx context.Context, t domain.Tenant, req SearchRequest, k int) ([]domain.Ranked, error) {
	hs, err := s.d.Text.Search(ctx, t, req.Query, k, req.Filter)
	if err != nil {
		return nil, err
	}
	return ranked(hs), nil
}

// vector ranks by the (maybe centered) query vector and returns, beside
// the ranking, the plain cosine of each candidate: the similarity a
// threshold compares.
func (s *SearchService) vector(ctx context.Context, t domain.Tenant, req SearchRequest, k int) ([]domain.Ranked, map[domain.MemoryID]float64, error) {
	vs, err := s.d.Embedder.Embed(ctx, []string{req.Query})
	if err != nil {
		return nil, nil, err
	}
	if len(vs) != 1 {
		return nil, nil, fmt.Errorf("embedder returned %d vectors for one query: %w", len(vs), domain.ErrUnavailable)
	}
	q, isCentered := vs[0], false
	if c := s.d.Centroids; c != nil && s.d.Centering > 0 {
		if cv, n, err := c.Centroid(ctx, t); err == nil && n >= minCenteredRows && len(cv) == len(q) {
			q, isCentered = centered(q, cv, s.d.Centering), true
		}
	}
	var hs, raw []ports.Hit
	if isCentered {
		// Centered scores are relative to the user's average memory, not
		// cosines: the plain query's neighbours give those, beside.
		both, err := searchEach(ctx, s.d.Vectors, t, [][]float32{q, vs[0]}, k, req.Filter)
		if err != nil {
			return nil, nil, err
		}
		hs, raw = both[0], both[1]
	} else {
		var err error
		if hs, err = s.d.Vectors.Search(ctx, t, q, k, req.Filter); err != nil {
			return nil, nil, err
		}
		raw = hs
	}
	cos := make(map[domain.MemoryID]float64, len(raw))
	for _, h := range raw {
		cos[h.ID] = h.Score
	}
	if isCentered {
		// The floor would cut real results from a centered ranking.
		return ranked(hs), cos, nil
	}
	kept := hs[:0]
	for _, h := range hs {
		if h.Score > 0 && h.Score >= s.d.VectorFloor {
			kept = append(kept, h)
		}
	}
	return ranked(kept), cos, nil
}

// similarity returns the calibrated similarity of a hydrated memory (see
// SearchHit): the clamped cosine when the vector ranking ran, else the
// share of the query's words its text holds.
func similarity(query string, cos map[domain.MemoryID]float64, vectorRan bool) func(domain.Memory) float64 {
	if vectorRan && cos != nil {
		return func(m domain.Memory) float64 { return min(1, max(0, cos[m.ID])) }
	}
	terms := domain.QueryTerms(query)
	return func(m domain.Memory) float64 {
		if len(terms) == 0 {
			return 0
		}
		words := wordSet(m.Text)
		n := 0
		for _, w := range terms {
			if words[w] {
				n++
			}
		}
		return float64(n) / float64(len(terms))
	}
}

// minCenteredRows: below it a mean says more about the few memories than
// about what is common to a user's memories, so queries are not centered.
const minCenteredRows = 20

// centered returns q − λc, renormalised: ranking by it is ranking by q·d −
// λ c·d, which discounts memories that look like the user's average memory.
func centered(q, c []float32, lambda float64) []float32 {
	out := make([]float32, len(q))
	var n float64
	for i := range q {
		out[i] = q[i] - float32(lambda)*c[i]
		n += float64(out[i]) * float64(out[i])
	}
	if n == 0 {
		return q
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range out {
		out[i] *= inv
	}
	return out
}

func ranked(hs []ports.Hit) []domain.Ranked {
	out := make([]domain.Ranked, len(hs))
	for i, h := range hs {
		out[i] = domain.Ranked{ID: h.ID, Score: h.Score}
	}
	return out
}

// searchEach ranks for each of qs: in one pass over the tenant's vectors
// when the index can (the in-process one, where the scan is bound by
// memory bandwidth), else one Search per vector, concurrently.
func searchEach(ctx context.Context, x ports.VectorIndex, t domain.Tenant, qs [][]float32, k int, f domain.SearchFilter) ([][]ports.Hit, error) {
	if m, ok := x.(ports.VectorMultiSearcher); ok {
		return m.SearchEach(ctx, t, qs, k, f)
	}
	out := make([][]ports.Hit, len(qs))
	errs := make([]error, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() { out[i], errs[i] = x.Search(ctx, t, q, k, f) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
