// Package openaihttp makes the HTTP calls that the OpenAI-compatible
// protocols share (chat completions in openaichat, embeddings in
// openaiembed): a JSON POST with a Bearer key and its own deadline per
// attempt, retried with exponential backoff and jitter (failsafe-go) on 429,
// 5xx and attempt timeouts, a 429's Retry-After honoured up to the backoff's
// ceiling. Other answers are not retried: a 400 is the caller's fault.
//
// It retries and nothing above it does: the resilience policy leaves the
// embedder and the LLM unretried (docs/operations.md), so retries never
// multiply. What a 2xx answer means is the caller's to decode.
package openaihttp
