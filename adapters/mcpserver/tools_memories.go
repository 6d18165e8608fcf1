package mcpserver

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

func (s *Server) addMemories(ctx context.Context, c call, in addInput) (addOutput, error) {
	ttl, err := domain.SecondsTTL("ttl", in.TTL)
	if err != nil {
		return addOutput{}, err
	}
	if in.Infer != nil && *in.Infer && s.deps.Inference != nil && s.deps.Inference.Enabled() {
		if in.TTL != nil || in.ExpiresAt != nil || len(in.Categories) > 0 || in.ObservedAt != nil {
			return addOutput{}, domain.Invalid("infer", "cannot be combined with ttl, expires_at, categories or observed_at")
		}
		changes, err := s.deps.Inference.Infer(ctx, c.Principal, app.InferInput{
			Messages: []domain.Message{{Role: "user", Content: in.Text}}, App: c.app(appArg(in.App)),
			AgentID: in.AgentID, RunID: in.RunID, Metadata: in.Metadata,
		})
		if err != nil {
			return addOutput{}, err
		}
		return addOutput{Changes: changes, Created: slices.ContainsFunc(changes, func(ch domain.InferenceChange) bool {
			return ch.Action == domain.InferAdd || ch.Action == domain.InferSupersede
		})}, nil
	}
	m, created, err := s.deps.Memories.Add(ctx, c.Principal, app.AddInput{
		Text: in.Text, App: c.app(appArg(in.App)), Metadata: in.Metadata, Categories: in.Categories,
		AgentID: in.AgentID, RunID: in.RunID,
		ExpiresAt: in.ExpiresAt, TTL: ttl, ObservedAt: in.ObservedAt,
	})
	if err != nil {
		return addOutput{}, err
	}
	out := toMemoryOut(m)
	return addOutput{Memory: &out, Created: created}, nil
}

func (s *Server) searchMemory(ctx context.Context, c call, in searchInput) (searchOutput, error) {
	limit, err := domain.OptionalInRange("limit", in.Limit, 1, domain.MaxSearchLimit)
	if err != nil {
		return searchOutput{}, err
	}
	req := app.SearchRequest{Query: in.Query, Limit: limit, MinSimilarity: in.MinSimilarity}
	if f := in.Filters; f != nil {
		req.Filter = domain.SearchFilter{App: appArg(f.App), Categories: f.Categories, Metadata: f.Metadata}
		if f.CreatedAfter != nil {
			req.Filter.CreatedAfter = *f.CreatedAfter
		}
		if f.CreatedBefore != nil {
			req.Filter.CreatedBefore = *f.CreatedBefore
		}
		for _, b := range []struct {
			src *time.Time
			dst *time.Time
		}{{f.ObservedAfter, &req.Filter.ObservedAfter}, {f.ObservedBefore, &req.Filter.ObservedBefore}, {f.AsOf, &req.Filter.AsOf}} {
			if b.src != nil {
				*b.dst = b.src.UTC()
			}
		}
		where, err := scopeWhere(f.AgentID, f.RunID)
		if err != nil {
			return searchOutput{}, err
		}
		req.Where = where
	}
	res, err := s.deps.Searcher.Search(ctx, c.Principal, req, c.app(""))
	if err != nil {
		return searchOutput{}, err
	}
	out := searchOutput{QueryID: res.QueryID, Degraded: res.Degraded, Results: make([]searchResult, len(res.Results))}
	for i, h := range res.Results {
		out.Results[i] = searchResult{memoryOut: toMemoryOut(h.Memory), Score: h.Score, Similarity: h.Similarity}
	}
	return out, nil
}

// scopeWhere is the exact agent and run scopes as a filter expression.
func scopeWhere(agent, run string) (*domain.Filter, error) {
	var parts []*domain.Filter
	if agent != "" {
		if err := domain.ValidateScopeID("agent_id", agent); err != nil {
			return nil, err
		}
		parts = append(parts, domain.Eq(domain.FieldAgentID, agent))
	}
	if run != "" {
		if err := domain.ValidateScopeID("run_id", run); err != nil {
			return nil, err
		}
		parts = append(parts, domain.Eq(domain.FieldRunID, run))
	}
	return domain.Conj(parts...), nil
}

func (s *Server) listMemories(ctx context.Context, c call, in listInput) (listOutput, error) {
	limit, err := domain.OptionalInRange("limit", in.Limit, 1, domain.MaxListLimit)
	if err != nil {
		return listOutput{}, err
	}
	q := domain.ListQuery{Limit: limit, Cursor: in.Cursor, App: appArg(in.App), AgentID: in.AgentID, RunID: in.RunID}
	if in.State != "" {
		st, err := domain.ParseState(in.State)
		if err != nil {
			return listOutput{}, err
		}
		q.States = []domain.State{st}
	}
	page, err := s.deps.Memories.List(ctx, c.Principal, q, c.app(""))
	if err != nil {
		return listOutput{}, err
	}
	out := listOutput{Items: make([]memoryOut, len(page.Items)), NextCursor: page.NextCursor}
	for i, m := range page.Items {
		out.Items[i] = toMemoryOut(m)
	}
	return out, nil
}

func (s *Server) getMemory(ctx context.Context, c call, in idInput) (memoryOut, error) {
	id, err := domain.ParseMemoryID(in.ID)
	if err != nil {
		return memoryOut{}, err
	}
	m, err := s.deps.Memories.Get(ctx, c.Principal, id, c.app(""))
	if err != nil {
		return memoryOut{}, err
	}
	return toMemoryOut(m), nil
}

func (s *Server) updateMemory(ctx context.Context, c call, in updateInput) (memoryOut, error) {
	id, err := domain.ParseMemoryID(in.ID)
	if err != nil {
		return memoryOut{}, err
	}
	upd := app.UpdateInput{Text: in.Text}
	if in.Metadata != nil {
		md := domain.Metadata(*in.Metadata)
		upd.Metadata = &md
	}
	m, err := s.deps.Memories.Update(ctx, c.Principal, id, upd, c.app(""))
	if err != nil {
		return memoryOut{}, err
	}
	return toMemoryOut(m), nil
}

func (s *Server) deleteMemories(ctx context.Context, c call, in deleteInput) (deleteOutput, error) {
	// A repeated id is one memory: count what was deleted, not what was sent.
	all := append(slices.Clone(in.IDs), in.MemoryIDs...)
	if len(all) == 0 {
		return deleteOutput{}, domain.Invalid("ids", "must name at least one memory (ids or memory_ids)")
	}
	ids := make([]domain.MemoryID, 0, len(all))
	for _, id := range all {
		if !slices.Contains(ids, domain.MemoryID(id)) {
			ids = append(ids, domain.MemoryID(id))
		}
	}
	if err := s.deps.Memories.Delete(ctx, c.Principal, ids, c.app("")); err != nil {
		return deleteOutput{}, err
	}
	return deleteOutput{Deleted: len(ids)}, nil
}

func (s *Server) deleteAllMemories(ctx context.Context, c call, in deleteAllInput) (deleteOutput, error) {
	// OpenMemory's clients never send confirm, and reach Engram on the
	// OpenMemory-style URLs (a client in the path); /mcp keeps asking.
	if !in.Confirm && c.PathApp == "" {
		return deleteOutput{}, domain.Invalid("confirm", "must be true to delete every memory")
	}
	n, err := s.deps.Memories.DeleteAll(ctx, c.Principal, c.app(""))
	if err != nil {
		return deleteOutput{}, err
	}
	return deleteOutput{Deleted: n}, nil
}

// appArg reads an app named by a model, which may write a display name
// ("Claude Desktop") where a slug is meant: it becomes the same slug the
// handshake name would. Empty stays empty (no app named).
func appArg(s string) domain.AppID {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return domain.AppIDFromClientName(s)
}
