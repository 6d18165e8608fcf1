package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// addGraphTools registers the entity tools (docs/entities.md). Like every
// tool they act for the verified caller only: ids of another tenant are
// not found.
func (s *Server) addGraphTools() {
	addTool(s, &mcp.Tool{
		Name:        "search_entities",
		Description: "Find the people, places, organisations, products, events and dates the user's memories mention, by the start of a name or alias (e.g. 'lis' finds Lisbon), most mentioned first. Use the ids with related_memories.",
		Annotations: readOnly("Search entities"),
	}, domain.ScopeEntitiesRead, app.ClassReads, s.searchEntities)
	addTool(s, &mcp.Tool{
		Name:        "related_memories",
		Description: "The memories that mention an entity, newest first, and the entities most often mentioned with it. Use it to answer questions that connect facts through a person, place or thing.",
		Annotations: readOnly("Related memories"),
	}, domain.ScopeEntitiesRead, app.ClassReads, s.relatedMemories)
}

type searchEntitiesInput struct {
	Query string `json:"query,omitempty" jsonschema:"Start of a name or of a word in it; empty lists the most mentioned entities. Up to 200 bytes."`
	Type  string `json:"type,omitempty" jsonschema:"Optional type: person, organisation, place, product, event, date or other."`
	Limit int    `json:"limit,omitempty" jsonschema:"How many entities, 1-100; default 20."`
}

type entityOut struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Aliases  []string `json:"aliases"`
	Memories int      `json:"memories" jsonschema:"how many memories mention it"`
}

func toEntityOut(e domain.Entity) entityOut {
	aliases := e.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return entityOut{ID: string(e.ID), Name: e.Name, Type: string(e.Type), Aliases: aliases, Memories: e.Memories}
}

type searchEntitiesOutput struct {
	Entities []entityOut `json:"entities"`
}

func (s *Server) searchEntities(ctx context.Context, c call, in searchEntitiesInput) (searchEntitiesOutput, error) {
	if in.Limit == 0 {
		in.Limit = 20
	}
	if in.Limit < 1 || in.Limit > 100 {
		return searchEntitiesOutput{}, domain.Invalid("limit", "must be 1-100")
	}
	page, err := s.deps.Graph.List(ctx, c.Principal, domain.EntityQuery{Search: in.Query, Type: domain.EntityType(in.Type), Limit: in.Limit})
	if err != nil {
		return searchEntitiesOutput{}, err
	}
	out := searchEntitiesOutput{Entities: make([]entityOut, len(page.Items))}
	for i, e := range page.Items {
		out.Entities[i] = toEntityOut(e)
	}
	return out, nil
}

type relatedInput struct {
	EntityID string `json:"entity_id" jsonschema:"An entity id from search_entities."`
	Limit    int    `json:"limit,omitempty" jsonschema:"How many memories and neighbours, 1-100; default 10."`
}

type neighbourOut struct {
	Entity entityOut `json:"entity"`
	Weight float64   `json:"weight" jsonschema:"how many memories mention both"`
}

type relatedOutput struct {
	Entity     entityOut      `json:"entity"`
	Memories   []memoryOut    `json:"memories"`
	Neighbours []neighbourOut `json:"neighbours"`
}

func (s *Server) relatedMemories(ctx context.Context, c call, in relatedInput) (relatedOutput, error) {
	if in.Limit == 0 {
		in.Limit = 10
	}
	v, err := s.deps.Graph.Get(ctx, c.Principal, domain.EntityID(in.EntityID), in.Limit)
	if err != nil {
		return relatedOutput{}, err
	}
	out := relatedOutput{Entity: toEntityOut(v.Entity), Memories: make([]memoryOut, len(v.Memories)), Neighbours: make([]neighbourOut, len(v.Neighbours))}
	for i, m := range v.Memories {
		out.Memories[i] = toMemoryOut(m)
	}
	for i, n := range v.Neighbours {
		out.Neighbours[i] = neighbourOut{Entity: toEntityOut(n.Entity), Weight: n.Weight}
	}
	return out, nil
}
