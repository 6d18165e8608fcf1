package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// traceMethods opens one span per MCP request the server receives, named
// after the method and, for tools/call, the tool ("mcp tools/call
// search_memory"), so a tool call shows up in a trace beside the store,
// index and embedder spans it causes. A tool error (IsError) marks the span
// as failed too: to the client it is an answer, to an operator a failure.
func traceMethods(tracer trace.Tracer) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			name := "mcp " + method
			var attrs []attribute.KeyValue
			if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && p != nil {
				name += " " + p.Name
				attrs = append(attrs, attribute.String("mcp.tool", p.Name))
			}
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
			defer span.End()
			res, err := next(ctx, method, req)
			switch r := res.(type) {
			case *mcp.CallToolResult:
				if err == nil && r != nil && r.IsError {
					span.SetStatus(codes.Error, "tool error")
				}
			}
			if err != nil {
				span.SetStatus(codes.Error, err.Error())
			}
			return res, err
		}
	}
}
