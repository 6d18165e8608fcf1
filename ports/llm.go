package ports

import (
	"context"
	"encoding/json"
)

// ChatMessage is one turn of a chat: Role is "system", "user" or
// "assistant".
type ChatMessage struct {
	Role    string
	Content string
}

// ChatRequest asks for one answer shaped by a JSON schema.
type ChatRequest struct {
	Messages []ChatMessage
	// SchemaName names the schema (letters, digits, _ and -; the OpenAI
	// protocol requires one) and Schema is the JSON Schema the answer must
	// satisfy: an object, strict (every property required, no others).
	SchemaName string
	Schema     json.RawMessage
	// MaxTokens bounds the answer; 0 means the adapter's default. The
	// adapter never sends an unbounded request.
	MaxTokens int
}

// LLM is a chat model answering with structured output.
//
// Chat returns the answer's JSON document, which is syntactically valid
// JSON (the adapter checks that much); whether it satisfies the schema is
// the caller's to check, because servers that claim structured output do
// not all enforce it.
//
// Errors: an answer that is not JSON, is cut off by the token bound, or is a
// refusal wraps domain.ErrInvalid with the reason (the caller may retry with
// the same request, and a second failure is its final answer); a backend
// that is down, slow past its deadline, or keeps answering 429/5xx after
// retries wraps domain.ErrUnavailable (a *domain.UnavailableError whose
// RetryAfter carries a server's Retry-After). Chat is safe for concurrent
// use and has no side effects, so it may be retried.
type LLM interface {
	Chat(ctx context.Context, req ChatRequest) (json.RawMessage, error)
	// Model names the model answering, for the record of an event.
	Model() string
}
