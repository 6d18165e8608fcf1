package app

import (
	"context"
	"slices"

	"github.com/engram-memory/engram/domain"
)

// GraphStart is where a walk begins: an entity or a memory (exactly one).
type GraphStart struct {
	Entity domain.EntityID
	Memory domain.MemoryID
}

// Neighbourhood returns the subgraph within l.Depth hops of start: from a
// memory, its node, the entities it names (depth 1, "mentions" edges) and
// theirs; from an entity, the entity (depth 0) and its neighbours. Each
// hop follows at most l.PerNode heaviest edges per node, and the walk stops
// at l.Nodes nodes (Truncated). Edges are those between returned entities.
func (g *GraphService) Neighbourhood(ctx context.Context, p domain.Principal, start GraphStart, l domain.GraphLimits) (domain.Subgraph, error) {
	if err := p.Require(domain.ScopeGraphRead); err != nil {
		return domain.Subgraph{}, err
	}
	if err := l.Validate(); err != nil {
		return domain.Subgraph{}, err
	}
	t := p.Tenant()
	sg := domain.Subgraph{Nodes: []domain.GraphNode{}, Edges: []domain.GraphEdge{}}
	var frontier []domain.EntityID
	depth := 0
	switch {
	case (start.Entity == "") == (start.Memory == ""):
		return domain.Subgraph{}, domain.Invalid("start", "name exactly one of entity_id or memory_id")
	case start.Memory != "":
		ms, err := g.activeMemories(ctx, t, []domain.MemoryID{start.Memory})
		if err != nil {
			return domain.Subgraph{}, err
		}
		if len(ms) == 0 {
			return domain.Subgraph{}, notFound("memory %s", start.Memory)
		}
		sg.Nodes = append(sg.Nodes, domain.GraphNode{ID: string(ms[0].ID), Kind: domain.NodeMemory, Label: ms[0].Text})
		links, err := g.Entities.MemoryEntities(ctx, t, []domain.MemoryID{start.Memory})
		if err != nil {
			return domain.Subgraph{}, err
		}
		frontier = links[start.Memory]
		for _, e := range frontier {
			sg.Edges = append(sg.Edges, domain.GraphEdge{From: string(start.Memory), To: string(e), Kind: domain.EdgeMentions, Weight: 1})
		}
		depth = 1
	default:
		if err := entityID("entity", start.Entity); err != nil {
			return domain.Subgraph{}, err
		}
		frontier = []domain.EntityID{start.Entity}
	}
	depthOf := map[domain.EntityID]int{}
	for _, id := range frontier {
		depthOf[id] = depth
	}
	order := slices.Clone(frontier)
	var rels []domain.Relation
	for ; depth < l.Depth && len(frontier) > 0; depth++ {
		rs, err := g.Entities.Neighbours(ctx, t, frontier, l.PerNode)
		if err != nil {
			return domain.Subgraph{}, err
		}
		rels = append(rels, rs...)
		var next []domain.EntityID
		for _, r := range rs {
			if _, seen := depthOf[r.To]; seen {
				continue
			}
			if len(order)+len(sg.Nodes) >= l.Nodes {
				sg.Truncated = true
				break
			}
			depthOf[r.To] = depth + 1
			order = append(order, r.To)
			next = append(next, r.To)
		}
		frontier = next
	}
	byID, err := g.entities(ctx, t, order)
	if err != nil {
		return domain.Subgraph{}, err
	}
	if start.Entity != "" && len(byID) == 0 {
		return domain.Subgraph{}, notFound("entity %s", start.Entity)
	}
	for _, id := range order {
		if e, ok := byID[id]; ok {
			sg.Nodes = append(sg.Nodes, entityNode(e, depthOf[id]))
		}
	}
	// The last hop's neighbours were not expanded: ask for edges among
	// the returned entities once more, so the picture has them too.
	if len(frontier) > 0 {
		rs, err := g.Entities.Neighbours(ctx, t, frontier, l.PerNode)
		if err != nil {
			return domain.Subgraph{}, err
		}
		rels = append(rels, rs...)
	}
	sg.Edges = append(sg.Edges, undirected(rels, byID)...)
	return sg, nil
}

func entityNode(e domain.Entity, depth int) domain.GraphNode {
	return domain.GraphNode{ID: string(e.ID), Kind: domain.NodeEntity, Label: e.Name, Type: e.Type, Memories: e.Memories, Depth: depth}
}

// undirected keeps each edge between two kept entities once.
func undirected(rs []domain.Relation, keep map[domain.EntityID]domain.Entity) []domain.GraphEdge {
	out := []domain.GraphEdge{}
	seen := map[[2]domain.EntityID]bool{}
	for _, r := range rs {
		_, a := keep[r.From]
		_, b := keep[r.To]
		k := [2]domain.EntityID{min(r.From, r.To), max(r.From, r.To)}
		if !a || !b || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, domain.GraphEdge{From: string(r.From), To: string(r.To), Kind: r.Predicate, Weight: r.Weight})
	}
	return out
}

// pathFanout is how many of each entity's heaviest edges a path search
// follows: a path is the shortest through those edges.
const pathFanout = 50

// Path returns a shortest chain of co-occurrence edges from one entity to
// another, at most maxDepth hops (1-MaxPathDepth), following each
// entity's pathFanout heaviest edges (breadth first from both ends). No
// path within the bound is an empty subgraph, not an error.
func (g *GraphService) Path(ctx context.Context, p domain.Principal, from, to domain.EntityID, maxDepth int) (domain.Subgraph, error) {
	if err := p.Require(domain.ScopeGraphRead); err != nil {
		return domain.Subgraph{}, err
	}
	if maxDepth < 1 || maxDepth > domain.MaxPathDepth {
		return domain.Subgraph{}, domain.Invalid("max_depth", "must be 1-%d", domain.MaxPathDepth)
	}
	t := p.Tenant()
	ends, err := g.entities(ctx, t, []domain.EntityID{from, to})
	if err != nil {
		return domain.Subgraph{}, err
	}
	if _, ok := ends[from]; !ok {
		return domain.Subgraph{}, notFound("entity %s", from)
	}
	if _, ok := ends[to]; !ok {
		return domain.Subgraph{}, notFound("entity %s", to)
	}
	empty := domain.Subgraph{Nodes: []domain.GraphNode{}, Edges: []domain.GraphEdge{}}
	// Two searches meet in the middle: parents from each side.
	side := [2]map[domain.EntityID]domain.Relation{{from: {}}, {to: {}}}
	front := [2][]domain.EntityID{{from}, {to}}
	meet := domain.EntityID("")
	if from == to {
		meet = from
	}
	for hops := 0; meet == "" && hops < maxDepth && len(front[0]) > 0 && len(front[1]) > 0; hops++ {
		s := hops % 2
		rs, err := g.Entities.Neighbours(ctx, t, front[s], pathFanout)
		if err != nil {
			return domain.Subgraph{}, err
		}
		var next []domain.EntityID
		for _, r := range rs {
			if _, seen := side[s][r.To]; seen {
				continue
			}
			side[s][r.To] = r
			next = append(next, r.To)
			if _, other := side[1-s][r.To]; other && meet == "" {
				meet = r.To
			}
		}
		front[s] = next
	}
	if meet == "" {
		return empty, nil
	}
	var chain []domain.EntityID
	var rels []domain.Relation
	for at := meet; at != from; {
		r := side[0][at]
		rels = append(rels, r)
		chain = append([]domain.EntityID{r.From}, chain...)
		at = r.From
	}
	chain = append(chain, meet)
	for at := meet; at != to; {
		r := side[1][at]
		rels = append(rels, r)
		chain = append(chain, r.From)
		at = r.From
	}
	byID, err := g.entities(ctx, t, chain)
	if err != nil {
		return domain.Subgraph{}, err
	}
	sg := empty
	for i, id := range chain {
		sg.Nodes = append(sg.Nodes, entityNode(byID[id], i))
	}
	sg.Edges = undirected(rels, byID)
	return sg, nil
}

// Export returns the caller's limit most linked entities and the edges
// among them (each entity's PerNode heaviest), for visualisation.
func (g *GraphService) Export(ctx context.Context, p domain.Principal, l domain.GraphLimits) (domain.Subgraph, error) {
	if err := p.Require(domain.ScopeGraphRead); err != nil {
		return domain.Subgraph{}, err
	}
	if err := l.Validate(); err != nil {
		return domain.Subgraph{}, err
	}
	t := p.Tenant()
	page, err := g.Entities.ListEntities(ctx, t, domain.EntityQuery{Limit: l.Nodes})
	if err != nil {
		return domain.Subgraph{}, err
	}
	sg := domain.Subgraph{Nodes: []domain.GraphNode{}, Edges: []domain.GraphEdge{}, Truncated: page.Next != nil}
	keep := map[domain.EntityID]domain.Entity{}
	ids := make([]domain.EntityID, 0, len(page.Items))
	for _, e := range page.Items {
		sg.Nodes = append(sg.Nodes, entityNode(e, 0))
		keep[e.ID] = e
		ids = append(ids, e.ID)
	}
	rs, err := g.Entities.Neighbours(ctx, t, ids, l.PerNode)
	if err != nil {
		return domain.Subgraph{}, err
	}
	sg.Edges = undirected(rs, keep)
	return sg, nil
}
