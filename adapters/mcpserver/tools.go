package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/adapters/jsonbody"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// call is what a tool handler knows about its invocation.
type call struct {
	caller
	session *mcp.ServerSession
}

// app is the app this call is recorded under (see actingApp).
func (c call) app(explicit domain.AppID) domain.AppID {
	return actingApp(c.caller, c.session, explicit)
}

// handler is a tool body: typed input in, typed output out, domain errors.
type handler[In, Out any] func(ctx context.Context, c call, in In) (Out, error)

// addTool registers one tool whose every call first finds its caller, checks
// scope and takes a token from the caller's bucket of class; a missing scope
// is a tool error (isError) naming the scope, not a protocol error, so the
// model can tell the user what to grant.
//
// It registers at the SDK's low level with schemas derived once from In and
// Out: the generic mcp.AddTool would also unmarshal, validate and re-marshal
// every result against the output schema, which our outputs satisfy by
// construction, and that round trip was the largest cost the MCP transport
// added over REST. Input is still validated against its schema.
func addTool[In, Out any](s *Server, t *mcp.Tool, scope domain.Scope, class app.RouteClass, h handler[In, Out]) {
	inSchema, inResolved := schemaFor[In]()
	outSchema, _ := schemaFor[Out]()
	t.InputSchema, t.OutputSchema = inSchema, outSchema
	s.toolScopes[t.Name] = scope
	s.mcp.AddTool(t, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, err := decodeArgs[In](req.Params.Arguments, inResolved)
		if err != nil {
			return errorResult(err), nil
		}
		c, ok := callerOf(ctx, req)
		if !ok {
			return errorResult(s.toolError(ctx, t.Name, domain.ErrUnauthenticated)), nil
		}
		if err := c.Principal.Require(scope); err != nil {
			return errorResult(s.toolError(ctx, t.Name, err)), nil
		}
		if s.deps.Limits != nil {
			if _, err := s.deps.Limits.Check(ctx, c.Principal, class); err != nil {
				return errorResult(s.toolError(ctx, t.Name, err)), nil
			}
		}
		ctx = s.positions.readAfter(ctx, req.Session)
		out, err := h(ctx, call{caller: c, session: req.Session}, in)
		if err != nil {
			return errorResult(s.toolError(ctx, t.Name, err)), nil
		}
		if class == app.ClassWrites {
			s.positions.wrote(ctx, req.Session)
		}
		raw, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("mcpserver: %s: marshal result: %w", t.Name, err)
		}
		// The same JSON twice: structured for clients that read the output
		// schema, as text for those that only show content (as the spec asks).
		return &mcp.CallToolResult{
			StructuredContent: json.RawMessage(raw),
			Content:           []mcp.Content{&mcp.TextContent{Text: string(raw)}},
		}, nil
	})
}

// schemaFor derives a type's JSON schema (descriptions from jsonschema
// tags) and resolves it; a failure is a programming error in this package.
func schemaFor[T any]() (*jsonschema.Schema, *jsonschema.Resolved) {
	schema, err := jsonschema.For[T](&jsonschema.ForOptions{})
	if err != nil {
		panic(fmt.Sprintf("mcpserver: schema of %T: %v", *new(T), err))
	}
	resolved, err := schema.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		panic(fmt.Sprintf("mcpserver: resolve schema of %T: %v", *new(T), err))
	}
	return schema, resolved
}

// decodeArgs validates the arguments against the input schema (required
// fields, types, no unknown properties) and decodes them.
func decodeArgs[In any](raw json.RawMessage, schema *jsonschema.Resolved) (In, error) {
	var in In
	args := map[string]any{}
	// encoding/json would turn invalid UTF-8 into U+FFFD silently; refuse
	// it on the raw arguments instead, naming the argument.
	if err := jsonbody.CheckUTF8(raw); err != nil {
		return in, err
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &args); err != nil {
			return in, fmt.Errorf("arguments must be a JSON object: %w", err)
		}
	}
	if err := schema.Validate(&args); err != nil {
		return in, fmt.Errorf("validating \"arguments\": %w", err)
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			return in, fmt.Errorf("decoding \"arguments\": %w", err)
		}
	}
	return in, nil
}

func errorResult(err error) *mcp.CallToolResult {
	var res mcp.CallToolResult
	res.SetError(err)
	return &res
}

func readOnly(title string) *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{Title: title, ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: ptr(false)}
}

func writes(title string, destructive, idempotent bool) *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{Title: title, DestructiveHint: ptr(destructive), IdempotentHint: idempotent, OpenWorldHint: ptr(false)}
}

func ptr[T any](v T) *T { return &v }

func (s *Server) addMemoryTools() {
	addTool(s, &mcp.Tool{
		Name:        "add_memories",
		Description: "Store one new fact about the user in long-term memory: a preference, a decision, a personal detail, a project convention. Write a single self-contained statement (\"Prefers TypeScript over JavaScript\"); call once per fact. An exact duplicate of an existing memory is not stored twice (created=false).",
		Annotations: writes("Add memory", false, true),
	}, domain.ScopeMemoriesWrite, app.ClassWrites, s.addMemories)
	addTool(s, &mcp.Tool{
		Name:        "search_memory",
		Description: "Search the user's long-term memories for facts relevant to a query; returns the best matches first with a relevance score. Use it before answering anything that may depend on the user's preferences, history or context.",
		Annotations: readOnly("Search memories"),
	}, domain.ScopeMemoriesRead, app.ClassSearch, s.searchMemory)
	addTool(s, &mcp.Tool{
		Name:        "list_memories",
		Description: "List the user's memories, newest first, one page at a time (pass next_cursor back as cursor). Optionally only those of one app or one state. Use search_memory to find memories about a topic.",
		Annotations: readOnly("List memories"),
	}, domain.ScopeMemoriesRead, app.ClassReads, s.listMemories)
	addTool(s, &mcp.Tool{
		Name:        "get_memory",
		Description: "Fetch one memory by its id, whatever its state.",
		Annotations: readOnly("Get memory"),
	}, domain.ScopeMemoriesRead, app.ClassReads, s.getMemory)
	addTool(s, &mcp.Tool{
		Name:        "update_memory",
		Description: "Correct an existing memory: replace its text and/or its metadata. Use it when a stored fact has changed (\"moved from Paris to Berlin\") instead of adding a contradicting memory. The change is kept in the memory's history.",
		Annotations: writes("Update memory", true, true),
	}, domain.ScopeMemoriesWrite, app.ClassWrites, s.updateMemory)
	addTool(s, &mcp.Tool{
		Name:        "delete_memories",
		Description: "Delete the memories with the given ids (soft delete: hidden from search and lists, history kept). Only when the user asks to forget something or a memory is wrong and cannot be corrected.",
		Annotations: writes("Delete memories", true, true),
	}, domain.ScopeMemoriesWrite, app.ClassWrites, s.deleteMemories)
	addTool(s, &mcp.Tool{
		Name:        "delete_all_memories",
		Description: "Delete every memory of the user. Irreversible from the client's point of view: only call it when the user explicitly asked to forget everything, with confirm=true.",
		Annotations: writes("Delete all memories", true, true),
	}, domain.ScopeMemoriesWrite, app.ClassWrites, s.deleteAllMemories)
}
