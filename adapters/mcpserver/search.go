package mcpserver

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// Searcher ranks the caller's active memories for a query; *app.SearchService
// (hybrid lexical and vector ranking fused by RRF) satisfies it. Without one,
// New falls back to substring matching over MemoryService.List so the tool
// works in every profile.
//
// Search checks domain.ScopeMemoriesRead, validates req, returns at most
// req.Limit hits, best first, only active memories of p's tenant, records
// the reads under actor, and answers errors of the domain kinds.
type Searcher interface {
	Search(ctx context.Context, p domain.Principal, req app.SearchRequest, actor domain.AppID) (app.SearchResult, error)
}

var _ Searcher = (*app.SearchService)(nil)

// listSearcher is the fallback Searcher: the whole query as a substring
// first, then each word, ranked by how many words a memory contains. It is
// exact but knows nothing of meaning; wire the search service for that.
type listSearcher struct {
	memories *app.MemoryService
}

// maxFallbackTerms bounds the word queries one search may issue.
const maxFallbackTerms = 8

func (s listSearcher) Search(ctx context.Context, p domain.Principal, req app.SearchRequest, actor domain.AppID) (app.SearchResult, error) {
	if err := p.Require(domain.ScopeMemoriesRead); err != nil {
		return app.SearchResult{}, err
	}
	if err := req.Validate(); err != nil {
		return app.SearchResult{}, err
	}
	scores := map[domain.MemoryID]float64{}
	found := map[domain.MemoryID]domain.Memory{}
	query := func(text string, weight float64) error {
		page, err := s.memories.List(ctx, p, s.listQuery(req, text), actor)
		if err != nil {
			return err
		}
		for _, m := range page.Items {
			if !req.Filter.MatchesTimes(m) {
				continue // lists know no observed_at bounds (issue 18)
			}
			found[m.ID] = m
			scores[m.ID] += weight
		}
		return nil
	}
	phrase := strings.TrimSpace(req.Query)
	if err := query(phrase, 1); err != nil {
		return app.SearchResult{}, err
	}
	terms := searchTerms(phrase)
	if len(found) < req.Limit && len(terms) > 1 {
		for _, term := range terms {
			if err := query(term, 1/float64(len(terms))); err != nil {
				return app.SearchResult{}, err
			}
		}
	}
	hits := make([]app.SearchHit, 0, len(found))
	for id, m := range found {
		hits = append(hits, app.SearchHit{Memory: m, Score: scores[id] / 2})
	}
	slices.SortFunc(hits, func(a, b app.SearchHit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(b.Memory.ID, a.Memory.ID)
	})
	if len(hits) > req.Limit {
		hits = hits[:req.Limit]
	}
	return app.SearchResult{Mode: domain.SearchLexical, Results: hits}, nil
}

func (s listSearcher) listQuery(req app.SearchRequest, text string) domain.ListQuery {
	f := req.Filter
	return domain.ListQuery{
		App: f.App, States: []domain.State{domain.StateActive}, Categories: f.Categories,
		Metadata: f.Metadata, CreatedAfter: f.CreatedAfter, CreatedBefore: f.CreatedBefore,
		TextContains: text, Limit: req.Limit,
	}
}

// searchTerms splits a query into distinct words of three or more letters,
// longest first (rarer, so more telling), at most maxFallbackTerms.
func searchTerms(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		if len([]rune(w)) >= 3 && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	if len(out) > maxFallbackTerms {
		out = out[:maxFallbackTerms]
	}
	return out
}
