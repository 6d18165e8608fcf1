// Package mcpserver is Engram's Model Context Protocol transport: the memory
// tools (add_memories, search_memory, list_memories, get_memory,
// update_memory, delete_memories, delete_all_memories and, when a session
// service is configured, add_session_event and get_session_context) served
// with the official Go SDK over Streamable HTTP, the legacy HTTP+SSE
// transport and stdio.
//
// It is a driving adapter: it turns MCP tool calls into app use cases and
// domain errors into tool errors. Every HTTP request is authenticated here,
// with the same ports.TokenVerifier (JWT, DPoP) as the REST API, because MCP
// clients talk to /mcp directly and the handler must be safe wherever it is
// mounted. A refused or missing token is answered 401 with a
// WWW-Authenticate challenge pointing at the RFC 9728 protected resource
// metadata that MetadataHandler serves.
//
// Identity never comes from a path: /mcp/{client}/http/{user} (the
// OpenMemory layout) names the client, which becomes the app, and a user that
// must equal the token's subject. MCP sessions are bound to the principal and
// path client that opened them; a session id presented with another user's
// token is refused.
package mcpserver
