// Package openaichat asks a chat model for structured answers through the
// OpenAI-compatible POST /v1/chat/completions protocol, spoken by OpenAI,
// Ollama, vLLM, LM Studio and llama.cpp's server.
//
// Every request carries a JSON schema (response_format json_schema, strict),
// temperature 0 and a token bound. Each attempt has its own timeout; 429,
// 5xx and attempt timeouts are retried with exponential backoff and jitter
// (openaihttp), a 429's Retry-After is honoured up to the backoff's
// ceiling, and a 400 is the caller's fault and not retried. An answer that
// is not JSON, is cut off by the token bound or is a refusal is not retried
// here either: the caller decides (the inference use case retries once).
// Servers that wrap their JSON in a Markdown code fence (small local models
// do) have the fence removed.
package openaichat
