package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// EnableGraph serves /api/v1/entities and /api/v1/graph (docs/entities.md).
func (s *Server) EnableGraph(g *app.GraphService) {
	if g == nil {
		return
	}
	s.route(http.MethodGet, "/entities", domain.ScopeEntitiesRead, s.listEntities(g))
	s.route(http.MethodGet, "/entities/:id", domain.ScopeEntitiesRead, s.getEntity(g))
	s.route(http.MethodPatch, "/entities/:id", domain.ScopeEntitiesWrite, s.renameEntity(g))
	s.route(http.MethodDelete, "/entities/:id", domain.ScopeEntitiesWrite, s.deleteEntity(g))
	s.route(http.MethodPost, "/entities/:id/merge", domain.ScopeEntitiesWrite, s.mergeEntities(g))
	s.route(http.MethodGet, "/memories/:id/entities", domain.ScopeEntitiesRead, s.memoryEntities(g))
	s.route(http.MethodGet, "/graph/neighbourhood", domain.ScopeGraphRead, s.neighbourhood(g))
	s.route(http.MethodGet, "/graph/path", domain.ScopeGraphRead, s.graphPath(g))
	s.route(http.MethodGet, "/graph/export", domain.ScopeGraphRead, s.graphExport(g))
}

type entityView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Aliases   []string  `json:"aliases"`
	Memories  int       `json:"memories"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewEntity(e domain.Entity) entityView {
	aliases := e.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return entityView{ID: string(e.ID), Name: e.Name, Type: string(e.Type), Aliases: aliases, Memories: e.Memories,
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
}

func viewEntities(es []domain.Entity) []entityView {
	out := make([]entityView, len(es))
	for i, e := range es {
		out[i] = viewEntity(e)
	}
	return out
}

// entityCursor is "<memories>.<id>", opaque to clients; nil on the last
// page.
func entityCursor(c *domain.EntityCursor) *string {
	if c == nil {
		return nil
	}
	s := strconv.Itoa(c.Memories) + "." + string(c.ID)
	return &s
}

func parseEntityCursor(s string) (*domain.EntityCursor, error) {
	if s == "" {
		return nil, nil
	}
	n, id, ok := strings.Cut(s, ".")
	m, err := strconv.Atoi(n)
	if !ok || err != nil || m < 0 || !domain.ValidEntityID(id) {
		return nil, domain.Invalid("cursor", "is not a cursor this API returned")
	}
	return &domain.EntityCursor{Memories: m, ID: domain.EntityID(id)}, nil
}

func entityIDParam(c echo.Context) domain.EntityID { return domain.EntityID(c.Param("id")) }

func (s *Server) listEntities(g *app.GraphService) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit, err := queryInt(c, "limit")
		if err != nil {
			return err
		}
		after, err := parseEntityCursor(c.QueryParam("cursor"))
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		page, err := g.List(c.Request().Context(), p, domain.EntityQuery{
			Search: c.QueryParam("q"), Type: domain.EntityType(c.QueryParam("type")), Limit: limit, After: after,
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"items": viewEntities(page.Items), "next_cursor": entityCursor(page.Next)})
	}
}

func (s *Server) getEntity(g *app.GraphService) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit, err := queryInt(c, "limit")
		if err != nil {
			return err
		}
		if limit == 0 {
			limit = 20
		}
		p, _ := principalOf(c)
		v, err := g.Get(c.Request().Context(), p, entityIDParam(c), limit)
		if err != nil {
			return err
		}
		ns := make([]map[string]any, len(v.Neighbours))
		for i, n := range v.Neighbours {
			ns[i] = map[string]any{"entity": viewEntity(n.Entity), "weight": n.Weight}
		}
		return c.JSON(http.StatusOK, map[string]any{"entity": viewEntity(v.Entity), "memories": viewMemories(v.Memories), "neighbours": ns})
	}
}

type renameEntityRequest struct {
	Name string `json:"name"`
}

func (s *Server) renameEntity(g *app.GraphService) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req renameEntityRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		p, _ := principalOf(c)
		e, err := g.Rename(c.Request().Context(), p, entityIDParam(c), req.Name)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewEntity(e))
	}
}

func (s *Server) deleteEntity(g *app.GraphService) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := principalOf(c)
		if err := g.Delete(c.Request().Context(), p, entityIDParam(c)); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

type mergeEntitiesRequest struct {
	From []string `json:"from"`
}

func (s *Server) mergeEntities(g *app.GraphService) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req mergeEntitiesRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		from := make([]domain.EntityID, len(req.From))
		for i, id := range req.From {
			from[i] = domain.EntityID(id)
		}
		p, _ := principalOf(c)
		e, err := g.Merge(c.Request().Context(), p, entityIDParam(c), from)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewEntity(e))
	}
}

func (s *Server) memoryEntities(g *app.GraphService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := memoryIDParam(c)
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		es, err := g.MemoryEntities(c.Request().Context(), p, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"items": viewEntities(es)})
	}
}

func graphLimits(c echo.Context) (domain.GraphLimits, error) {
	var l domain.GraphLimits
	var err error
	if l.Depth, err = queryInt(c, "depth"); err != nil {
		return l, err
	}
	if l.Nodes, err = queryInt(c, "limit"); err != nil {
		return l, err
	}
	if l.PerNode, err = queryInt(c, "per_node"); err != nil {
		return l, err
	}
	return l, nil
}

type graphNodeView struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Label    string `json:"label"`
	Type     string `json:"type,omitempty"`
	Memories int    `json:"memories,omitempty"`
	Depth    int    `json:"depth"`
}

type graphEdgeView struct {
	From   string  `json:"from"`
	To     string  `json:"to"`
	Kind   string  `json:"kind"`
	Weight float64 `json:"weight"`
}

func viewSubgraph(sg domain.Subgraph) map[string]any {
	nodes := make([]graphNodeView, len(sg.Nodes))
	for i, n := range sg.Nodes {
		nodes[i] = graphNodeView{ID: n.ID, Kind: string(n.Kind), Label: n.Label, Type: string(n.Type), Memories: n.Memories, Depth: n.Depth}
	}
	edges := make([]graphEdgeView, len(sg.Edges))
	for i, e := range sg.Edges {
		edges[i] = graphEdgeView{From: e.From, To: e.To, Kind: e.Kind, Weight: e.Weight}
	}
	return map[string]any{"nodes": nodes, "edges": edges, "truncated": sg.Truncated}
}

func (s *Server) neighbourhood(g *app.GraphService) echo.HandlerFunc {
	return func(c echo.Context) error {
		l, err := graphLimits(c)
		if err != nil {
			return err
		}
		start := app.GraphStart{Entity: domain.EntityID(c.QueryParam("entity_id")), Memory: domain.MemoryID(c.QueryParam("memory_id"))}
		if start.Memory != "" {
			if _, err := domain.ParseMemoryID(string(start.Memory)); err != nil {
				return err
			}
		}
		p, _ := principalOf(c)
		sg, err := g.Neighbourhood(c.Request().Context(), p, start, l)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewSubgraph(sg))
	}
}

func (s *Server) graphPath(g *app.GraphService) echo.HandlerFunc {
	return func(c echo.Context) error {
		depth, err := queryInt(c, "max_depth")
		if err != nil {
			return err
		}
		if depth == 0 {
			depth = 4
		}
		p, _ := principalOf(c)
		sg, err := g.Path(c.Request().Context(), p, domain.EntityID(c.QueryParam("from")), domain.EntityID(c.QueryParam("to")), depth)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewSubgraph(sg))
	}
}

func (s *Server) graphExport(g *app.GraphService) echo.HandlerFunc {
	return func(c echo.Context) error {
		l, err := graphLimits(c)
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		sg, err := g.Export(c.Request().Context(), p, l)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewSubgraph(sg))
	}
}
