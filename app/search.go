package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// SearchDeps are the ports SearchService needs. Memories is required; at
// least one of Text and Vectors (with Embedder) must be set.
type SearchDeps struct {
	Memories ports.MemoryStore
	Text     ports.TextIndex
	Vectors  ports.VectorIndex
	Embedder ports.Embedder
	// Entities, when set, adds the entity ranking to hybrid searches
	// (entityRanking): memories linked to the entities a query names and
	// to their close neighbours, weighted by Weights.Entity. Nil: two
	// rankings, as before.
	Entities ports.EntityStore
	// Reads records search reads in the access log; nil records nothing.
	Reads *MemoryService
	Clock ports.Clock
	// Logger receives degraded-mode warnings. Nil discards them.
	Logger *slog.Logger
	// RRFK is reciprocal rank fusion's k; 0 means domain.DefaultRRFK.
	RRFK int
	// VectorFloor drops vector hits whose cosine similarity is below it
	// before fusion. A vector index always returns its k nearest, however
	// far; below the floor they are noise that RRF would otherwise promote.
	// 0 keeps every hit with a positive similarity.
	VectorFloor float64
	// Centering in [0,1] subtracts that share of the tenant's mean vector
	// from the query when the vector index can report it, a stand-in for
	// IDF that hashed and model embeddings both lack. 0 means
	// DefaultCentering; a negative value turns it off.
	Centering float64
	// Centroids reports a tenant's mean vector for centering; nil means
	// Vectors itself when it implements VectorCentroids (the in-process
	// index does). Set it explicitly when Vectors is wrapped in decorators.
	Centroids VectorCentroids
	// VectorTrust multiplies the vector weight of every hybrid search: how
	// far this embedder's ranking is trusted next to the lexical one. 0
	// means VectorTrustFor(Embedder.Model()): the local hashing embedder
	// is lexical at heart and should not vote like a semantic model.
	VectorTrust float64
	// ShortQuery: queries of at most this many words (after stop words)
	// are keyword queries, fused by plain weighted RRF; 0 means
	// DefaultShortQuery, negative means none.
	ShortQuery int
	// GapBoost and PinGap are domain.Fusion's per-query signals; 0 means
	// DefaultGapBoost and DefaultPinGap, a negative value turns one off.
	GapBoost, PinGap float64
}

// VectorCentroids is implemented by vector indexes that can report a
// tenant's mean vector and row count cheaply (the in-process index keeps a
// running sum).
type VectorCentroids interface {
	Centroid(ctx context.Context, t domain.Tenant) ([]float32, int, error)
}

// DefaultCentering was chosen on testdata/eval, where it lifts hybrid
// recall@5 by about 0.05 with the local embedder.
const DefaultCentering = 0.8

// SearchService is memory search: lexical, vector and hybrid ranking fused by
// weighted reciprocal rank fusion, hydrated from the store so that only
// active memories the caller owns are ever returned.
type SearchService struct {
	d SearchDeps
}

// NewSearchService checks deps and returns the service.
func NewSearchService(d SearchDeps) *SearchService {
	if d.Memories == nil {
		panic("app: SearchDeps needs Memories")
	}
	if d.Text == nil && d.Vectors == nil {
		panic("app: SearchDeps needs a text or a vector index")
	}
	if d.Vectors != nil && d.Embedder == nil {
		panic("app: SearchDeps.Vectors needs an Embedder")
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.RRFK <= 0 {
		d.RRFK = domain.DefaultRRFK
	}
	if d.Centering == 0 {
		d.Centering = DefaultCentering
	}
	if d.VectorTrust == 0 && d.Embedder != nil {
		d.VectorTrust = VectorTrustFor(d.Embedder.Model())
	}
	if d.ShortQuery == 0 {
		d.ShortQuery = DefaultShortQuery
	}
	if d.GapBoost == 0 {
		d.GapBoost = DefaultGapBoost
	}
	if d.PinGap == 0 {
		d.PinGap = DefaultPinGap
	}
	if d.Centroids == nil {
		d.Centroids, _ = d.Vectors.(VectorCentroids)
	}
	return &SearchService{d: d}
}

// SearchRequest is one search as a client asks for it.
type SearchRequest struct {
	Query  string
	Limit  int               // 1..100; 0 means 10
	Mode   domain.SearchMode // empty means hybrid
	Filter domain.SearchFilter
	// Where is an expression of the filter language, checked by the store
	// when results are loaded (so any field it can compare works on every
	// backend); nil filters nothing.
	Where   *domain.Filter
	Weights *domain.Weights // nil means equal weights
	// MinScore drops results scoring below it (scores are in [0,1]).
	MinScore float64
	// MinSimilarity drops results whose Similarity is below it, in [0,1]
	// (mem0's threshold).
	MinSimilarity float64
	// Diversity in [0,1] re-ranks by maximal marginal relevance; 0 is off.
	Diversity float64
}

// SearchHit is one result. Score is the weighted RRF score normalised to
// [0,1] (1: ranked first by every ranking that ran); a rank is 1-based and 0
// when that ranking did not return the memory.
//
// Similarity, unlike Score, is absolute and can be thresholded: the cosine
// of the query's and the memory's embeddings (clamped to [0,1]) when the
// vector ranking ran, before any centering; 0 for a memory outside its
// nearest candidates. When no vector ranking ran (lexical mode, a vector
// weight of 0, no embedder, or the vector index down) it is the share of
// the query's words (domain.QueryTerms) that the memory's text holds.
type SearchHit struct {
	Memory      domain.Memory
	Score       float64
	Similarity  float64
	LexicalRank int
	VectorRank  int
	// EntityRank is the rank in the entity ranking (0: absent, or the
	// ranking did not run).
	EntityRank int
}

// SearchResult is a search's answer. Degraded names the rankings that
// failed and were left out ("lexical", "vector", "entity").
type SearchResult struct {
	QueryID  string
	Mode     domain.SearchMode
	Results  []SearchHit
	Degraded []string
}

// Validate checks the request and fills defaults.
func (r *SearchRequest) Validate() error {
	if strings.TrimSpace(r.Query) == "" {
		return domain.Invalid("query", "must not be empty")
	}
	if len(r.Query) > domain.MaxQueryBytes || !utf8.ValidString(r.Query) {
		return domain.Invalid("query", "must be valid UTF-8 of at most %d bytes", domain.MaxQueryBytes)
	}
	if r.Limit == 0 {
		r.Limit = domain.DefaultSearchLimit
	}
	if r.Limit < 1 || r.Limit > domain.MaxSearchLimit {
		return domain.Invalid("limit", "must be between 1 and %d", domain.MaxSearchLimit)
	}
	mode, err := domain.ParseSearchMode(string(r.Mode))
	if err != nil {
		return err
	}
	r.Mode = mode
	if r.Weights == nil {
		w := domain.DefaultWeights
		r.Weights = &w
	}
	if err := r.Weights.Validate(); err != nil {
		return err
	}
	if r.MinScore < 0 || r.MinScore > 1 || r.MinScore != r.MinScore {
		return domain.Invalid("min_score", "must be between 0 and 1")
	}
	if r.MinSimilarity < 0 || r.MinSimilarity > 1 || r.MinSimilarity != r.MinSimilarity {
		return domain.Invalid("min_similarity", "must be between 0 and 1")
	}
	if r.Diversity < 0 || r.Diversity > 1 || r.Diversity != r.Diversity {
		return domain.Invalid("diversity", "must be between 0 and 1")
	}
	return r.Filter.Validate()
}

// FindMemories implements MemoryFinder for session context: a hybrid search
// whose reads are recorded under the principal's own client.
func (s *SearchService) FindMemories(ctx context.Context, p domain.Principal, query string, limit int) ([]domain.Memory, error) {
	res, err := s.Search(ctx, p, SearchRequest{Query: query, Limit: limit}, "")
	if err != nil {
		return nil, err
	}
	out := make([]domain.Memory, len(res.Results))
	for i, h := range res.Results {
		out[i] = h.Memory
	}
	return out, nil
}

// isDegradable says whether a ranking's failure may be survived by the other
// one: a backend that is down, or vectors of another model. A bad request is
// not degradable — it would fail the other side too.
func isDegradable(err error) bool {
	return errors.Is(err, domain.ErrUnavailable) || errors.Is(err, domain.ErrConflict) ||
		errors.Is(err, context.DeadlineExceeded)
}
