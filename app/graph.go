package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// GraphService is the entity and graph use cases: list and search
// entities, read one with its memories and neighbours, rename, merge,
// delete, and walk the co-occurrence graph (neighbourhood, shortest path,
// export). Every call is scoped to the principal's tenant.
type GraphService struct {
	Memories ports.MemoryStore
	Entities ports.EntityStore
	Clock    ports.Clock
}

// EntityView is one entity with its memories (active ones, newest first)
// and its neighbours (heaviest edges first).
type EntityView struct {
	Entity     domain.Entity
	Memories   []domain.Memory
	Neighbours []Neighbour
}

// Neighbour is an entity next to another, with the edge's weight.
type Neighbour struct {
	Entity domain.Entity
	Weight float64
}

// MaxEntityViewItems bounds the memories and neighbours of an EntityView.
const MaxEntityViewItems = 100

func (g *GraphService) clock() ports.Clock {
	if g.Clock == nil {
		return ports.SystemClock{}
	}
	return g.Clock
}

func entityID(field string, id domain.EntityID) error {
	if !domain.ValidEntityID(string(id)) {
		return fmt.Errorf("%s %q: %w", field, id, domain.ErrNotFound)
	}
	return nil
}

// List pages the caller's entities.
func (g *GraphService) List(ctx context.Context, p domain.Principal, q domain.EntityQuery) (domain.EntityPage, error) {
	if err := p.Require(domain.ScopeEntitiesRead); err != nil {
		return domain.EntityPage{}, err
	}
	if err := q.Validate(); err != nil {
		return domain.EntityPage{}, err
	}
	return g.Entities.ListEntities(ctx, p.Tenant(), q)
}

// Get returns one entity with up to limit memories and neighbours.
func (g *GraphService) Get(ctx context.Context, p domain.Principal, id domain.EntityID, limit int) (EntityView, error) {
	if err := p.Require(domain.ScopeEntitiesRead); err != nil {
		return EntityView{}, err
	}
	if limit < 1 || limit > MaxEntityViewItems {
		return EntityView{}, domain.Invalid("limit", "must be 1-%d", MaxEntityViewItems)
	}
	t := p.Tenant()
	e, err := g.one(ctx, t, id)
	if err != nil {
		return EntityView{}, err
	}
	v := EntityView{Entity: e, Memories: []domain.Memory{}, Neighbours: []Neighbour{}}
	ids, err := g.Entities.EntityMemories(ctx, t, []domain.EntityID{id}, limit)
	if err != nil {
		return EntityView{}, err
	}
	if v.Memories, err = g.activeMemories(ctx, t, ids); err != nil {
		return EntityView{}, err
	}
	rs, err := g.Entities.Neighbours(ctx, t, []domain.EntityID{id}, limit)
	if err != nil {
		return EntityView{}, err
	}
	byID, err := g.entities(ctx, t, relationEnds(rs))
	if err != nil {
		return EntityView{}, err
	}
	for _, r := range rs {
		if n, ok := byID[r.To]; ok {
			v.Neighbours = append(v.Neighbours, Neighbour{Entity: n, Weight: r.Weight})
		}
	}
	return v, nil
}

func (g *GraphService) one(ctx context.Context, t domain.Tenant, id domain.EntityID) (domain.Entity, error) {
	if err := entityID("entity", id); err != nil {
		return domain.Entity{}, err
	}
	es, err := g.Entities.GetEntities(ctx, t, []domain.EntityID{id})
	if err != nil {
		return domain.Entity{}, err
	}
	if len(es) == 0 {
		return domain.Entity{}, fmt.Errorf("entity %s: %w", id, domain.ErrNotFound)
	}
	return es[0], nil
}

func (g *GraphService) entities(ctx context.Context, t domain.Tenant, ids []domain.EntityID) (map[domain.EntityID]domain.Entity, error) {
	es, err := g.Entities.GetEntities(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[domain.EntityID]domain.Entity, len(es))
	for _, e := range es {
		out[e.ID] = e
	}
	return out, nil
}

// activeMemories loads ids in order, keeping the active ones; a memory
// deleted since it was linked is skipped, not an error.
func (g *GraphService) activeMemories(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) ([]domain.Memory, error) {
	out := make([]domain.Memory, 0, len(ids))
	for _, id := range ids {
		m, err := g.Memories.Get(ctx, t, id)
		if errors.Is(err, domain.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m.State == domain.StateActive {
			out = append(out, m)
		}
	}
	return out, nil
}

func relationEnds(rs []domain.Relation) []domain.EntityID {
	out := make([]domain.EntityID, 0, len(rs))
	for _, r := range rs {
		if !slices.Contains(out, r.To) {
			out = append(out, r.To)
		}
	}
	return out
}

// Rename renames an entity; its old name stays an alias.
func (g *GraphService) Rename(ctx context.Context, p domain.Principal, id domain.EntityID, name string) (domain.Entity, error) {
	if err := p.Require(domain.ScopeEntitiesWrite); err != nil {
		return domain.Entity{}, err
	}
	if err := domain.ValidateEntityName("name", name); err != nil {
		return domain.Entity{}, err
	}
	if err := entityID("entity", id); err != nil {
		return domain.Entity{}, err
	}
	return g.Entities.RenameEntity(ctx, p.Tenant(), id, name, g.clock().Now())
}

// Merge folds from into into.
func (g *GraphService) Merge(ctx context.Context, p domain.Principal, into domain.EntityID, from []domain.EntityID) (domain.Entity, error) {
	if err := p.Require(domain.ScopeEntitiesWrite); err != nil {
		return domain.Entity{}, err
	}
	if len(from) == 0 || len(from) > domain.MaxEntityAliases {
		return domain.Entity{}, domain.Invalid("from", "must name 1-%d entities", domain.MaxEntityAliases)
	}
	for _, id := range append([]domain.EntityID{into}, from...) {
		if err := entityID("entity", id); err != nil {
			return domain.Entity{}, err
		}
	}
	return g.Entities.MergeEntities(ctx, p.Tenant(), into, from, g.clock().Now())
}

// Delete deletes an entity with its links and edges; memories stay.
func (g *GraphService) Delete(ctx context.Context, p domain.Principal, id domain.EntityID) error {
	if err := p.Require(domain.ScopeEntitiesWrite); err != nil {
		return err
	}
	if err := entityID("entity", id); err != nil {
		return err
	}
	return g.Entities.DeleteEntity(ctx, p.Tenant(), id)
}

// MemoryEntities returns the entities a memory names (scope entities:read);
// a memory of another tenant is ErrNotFound.
func (g *GraphService) MemoryEntities(ctx context.Context, p domain.Principal, id domain.MemoryID) ([]domain.Entity, error) {
	if err := p.Require(domain.ScopeEntitiesRead); err != nil {
		return nil, err
	}
	t := p.Tenant()
	if _, err := g.Memories.Get(ctx, t, id); err != nil {
		return nil, err
	}
	links, err := g.Entities.MemoryEntities(ctx, t, []domain.MemoryID{id})
	if err != nil {
		return nil, err
	}
	es, err := g.Entities.GetEntities(ctx, t, links[id])
	if err != nil {
		return nil, err
	}
	if es == nil {
		es = []domain.Entity{}
	}
	slices.SortFunc(es, func(a, b domain.Entity) int { return b.Memories - a.Memories })
	return es, nil
}

func notFound(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, domain.ErrNotFound)...)
}
