package domain

// NodeKind says what a graph node is.
type NodeKind string

// The node kinds of a subgraph.
const (
	NodeEntity NodeKind = "entity"
	NodeMemory NodeKind = "memory"
)

// EdgeMentions links a memory node to an entity it names.
const EdgeMentions = "mentions"

// GraphNode is one node of a subgraph: an entity (Label its name, Type
// its type) or a memory (Label its text). Depth is the number of hops
// from the start.
type GraphNode struct {
	ID       string
	Kind     NodeKind
	Label    string
	Type     EntityType
	Memories int
	Depth    int
}

// GraphEdge is one edge of a subgraph, From and To being node ids.
type GraphEdge struct {
	From   string
	To     string
	Kind   string
	Weight float64
}

// Subgraph is a bounded piece of a tenant's graph, for visualisation.
// Truncated says a limit cut it short.
type Subgraph struct {
	Nodes     []GraphNode
	Edges     []GraphEdge
	Truncated bool
}

// GraphLimits bound a walk: Depth hops (1-MaxGraphDepth), Nodes nodes
// (1-MaxGraphNodes), PerNode edges followed from each node (1-100).
type GraphLimits struct {
	Depth   int
	Nodes   int
	PerNode int
}

// Validate fills defaults (depth 2, DefaultGraphNodes, 20 per node) and
// checks the bounds.
func (l *GraphLimits) Validate() error {
	if l.Depth == 0 {
		l.Depth = 2
	}
	if l.Nodes == 0 {
		l.Nodes = DefaultGraphNodes
	}
	if l.PerNode == 0 {
		l.PerNode = 20
	}
	switch {
	case l.Depth < 1 || l.Depth > MaxGraphDepth:
		return Invalid("depth", "must be 1-%d", MaxGraphDepth)
	case l.Nodes < 1 || l.Nodes > MaxGraphNodes:
		return Invalid("limit", "must be 1-%d", MaxGraphNodes)
	case l.PerNode < 1 || l.PerNode > 100:
		return Invalid("per_node", "must be 1-100")
	}
	return nil
}
