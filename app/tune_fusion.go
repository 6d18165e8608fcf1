package app

import (
	"context"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// FusionTuner replays logged searches against the indexes and scores a grid
// of fusion settings by the feedback users gave: for each setting, in how
// many searches an accepted memory lands in the top k (engram tune-fusion).
type FusionTuner struct {
	search   *SearchService
	feedback ports.FeedbackStore
	queries  ports.QueryLog
}

// NewFusionTuner wires the tuner.
func NewFusionTuner(search *SearchService, feedback ports.FeedbackStore, queries ports.QueryLog) *FusionTuner {
	if search == nil || feedback == nil || queries == nil {
		panic("app: NewFusionTuner needs search, feedback and query log")
	}
	return &FusionTuner{search: search, feedback: feedback, queries: queries}
}

// TuneInput says what to replay and which settings to try.
type TuneInput struct {
	Org     domain.OrgID
	Since   time.Time // logged searches and feedback from then on
	TopK    int       // "accepted in top k"; 0 means 5
	Ks      []int     // RRF k values; empty: 10, 20, 40, 60, 100
	Weights []float64 // lexical and vector weights, crossed; empty: 0, 0.5, 1, 2, 3
	// EntityWeights are the entity ranking's weights, crossed with the
	// others; empty: 0, 0.5, 1, 1.5, 2, 3 (only 0 when search has no
	// entity store).
	EntityWeights []float64
	Current       domain.SearchParams
	// MaxQueries bounds the replay; 0 means 10,000.
	MaxQueries int
}

// TunePoint is one setting's score.
type TunePoint struct {
	RRFK    int
	Weights domain.Weights
	Hits    int     // searches with an accepted memory in the top k
	Rate    float64 // Hits / replayed searches
	MRR     float64 // mean reciprocal rank of the first accepted memory (0 when absent)
}

// TuneReport is the outcome: the best setting and the current one beside it.
type TuneReport struct {
	Replayed int // searches with accepted feedback that were replayed
	Skipped  int // searches whose replay failed (an index was down)
	TopK     int
	Best     TunePoint
	Current  TunePoint
	Points   []TunePoint // every grid point, in grid order
}

// replayed is one search's candidates and what the user accepted. The
// entity ranking is replayed once, expanding the head of the current
// setting's fusion, and reused at every grid point: it depends on the
// head only through the entities of its first three memories.
type replayed struct {
	query         string
	lex, vec, ent []domain.Ranked
	accepted      map[domain.MemoryID]bool
}

// Tune runs the replay. Searches without accepted feedback naming a memory
// are left out: they say nothing about which ranking was right.
func (x *FusionTuner) Tune(ctx context.Context, in TuneInput) (TuneReport, error) {
	if in.TopK == 0 {
		in.TopK = 5
	}
	if in.TopK < 1 || in.TopK > domain.MaxSearchLimit {
		return TuneReport{}, domain.Invalid("top_k", "must be between 1 and %d", domain.MaxSearchLimit)
	}
	if len(in.Ks) == 0 {
		in.Ks = []int{10, 20, 40, 60, 100}
	}
	if len(in.Weights) == 0 {
		in.Weights = []float64{0, 0.5, 1, 2, 3}
	}
	if len(in.EntityWeights) == 0 {
		in.EntityWeights = []float64{0, 0.5, 1, 1.5, 2, 3}
	}
	if x.search.d.Entities == nil {
		in.EntityWeights = []float64{0}
	}
	if in.MaxQueries == 0 {
		in.MaxQueries = 10000
	}
	in.Current = in.Current.Resolve()
	accepted, err := x.acceptedByQuery(ctx, in.Org, in.Since)
	if err != nil {
		return TuneReport{}, err
	}
	rep := TuneReport{TopK: in.TopK}
	var runs []replayed
	cursor := ""
	for len(runs) < in.MaxQueries {
		logs, next, err := x.queries.ListQueries(ctx, in.Org, in.Since, domain.MaxListLimit, cursor)
		if err != nil {
			return TuneReport{}, err
		}
		for _, q := range logs {
			acc := accepted[q.ID]
			if len(acc) == 0 || len(runs) >= in.MaxQueries {
				continue
			}
			r, err := x.replay(ctx, q, in.Current)
			if err != nil {
				rep.Skipped++
				continue
			}
			r.accepted = acc
			runs = append(runs, r)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	rep.Replayed = len(runs)
	rep.Current = score(runs, x.search.fusion, in.Current.RRFK, in.Current.Weights, in.TopK)
	rep.Best = rep.Current
	for _, k := range in.Ks {
		for _, wl := range in.Weights {
			for _, wv := range in.Weights {
				for _, we := range in.EntityWeights {
					w := domain.Weights{Lexical: wl, Vector: wv, Entity: we}
					if k < 1 || k > domain.MaxRRFK || w.Validate() != nil {
						continue
					}
					p := score(runs, x.search.fusion, k, w, in.TopK)
					rep.Points = append(rep.Points, p)
					// Strictly better only: on a tie the current setting stays.
					if p.Hits > rep.Best.Hits || (p.Hits == rep.Best.Hits && p.MRR > rep.Best.MRR+1e-12) {
						rep.Best = p
					}
				}
			}
		}
	}
	return rep, nil
}

func (x *FusionTuner) acceptedByQuery(ctx context.Context, org domain.OrgID, since time.Time) (map[domain.QueryID]map[domain.MemoryID]bool, error) {
	out := map[domain.QueryID]map[domain.MemoryID]bool{}
	cursor := ""
	for {
		page, err := x.feedback.ListFeedback(ctx, org, domain.FeedbackFilter{Since: since}, domain.MaxListLimit, cursor)
		if err != nil {
			return nil, fmt.Errorf("tune-fusion: read feedback: %w", err)
		}
		for _, e := range page.Events {
			if e.Outcome != domain.OutcomeAccepted || e.MemoryID == "" {
				continue
			}
			if out[e.QueryID] == nil {
				out[e.QueryID] = map[domain.MemoryID]bool{}
			}
			out[e.QueryID][e.MemoryID] = true
		}
		if cursor = page.Next; cursor == "" {
			return out, nil
		}
	}
}

// replay re-runs the rankings of a logged search as its user, at the
// depth the live search fuses; the entity ranking expands the head that
// the current setting cur fuses.
func (x *FusionTuner) replay(ctx context.Context, q domain.QueryLog, cur domain.SearchParams) (replayed, error) {
	t := domain.Tenant{OrgID: q.OrgID, UserID: q.UserID}
	req := SearchRequest{Query: q.Query, Limit: max(q.Params.Limit, 1)}
	if err := req.Validate(); err != nil {
		return replayed{}, err
	}
	depth := min(ports.MaxIndexK, max(4*req.Limit, 50))
	r := replayed{query: q.Query}
	var err error
	if x.search.d.Text != nil {
		if r.lex, err = x.search.lexical(ctx, t, req, depth); err != nil {
			return r, err
		}
	}
	if x.search.d.Vectors != nil {
		if r.vec, _, err = x.search.vector(ctx, t, req, depth); err != nil {
			return r, err
		}
	}
	if x.search.d.Entities != nil {
		f := x.search.fusion(q.Query, cur.Weights)
		f.K = cur.RRFK
		if head := domain.Fuse(r.lex, r.vec, f); len(head) > 0 {
			if r.ent, err = x.search.entityRanking(ctx, t, q.Query, head, domain.SearchFilter{}); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

// score replays runs fused as the live search would fuse them at k and w
// (fuseWith adds the service's vector trust and per-query signals).
func score(runs []replayed, fuseWith func(string, domain.Weights) domain.Fusion, k int, w domain.Weights, topK int) TunePoint {
	p := TunePoint{RRFK: k, Weights: w}
	if len(runs) == 0 {
		return p
	}
	rr := 0.0
	for _, r := range runs {
		f := fuseWith(r.query, w)
		f.K = k
		fused := domain.FuseEntity(r.lex, r.vec, r.ent, f)
		for i, f := range fused {
			if f.Score <= 0 || !r.accepted[f.ID] {
				continue // a zero weight leaves that list's ids unranked
			}
			rr += 1 / float64(i+1)
			if i < topK {
				p.Hits++
			}
			break
		}
	}
	p.Rate = float64(p.Hits) / float64(len(runs))
	p.MRR = rr / float64(len(runs))
	return p
}
