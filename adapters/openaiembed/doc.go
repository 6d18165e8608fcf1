// Package openaiembed embeds texts through the OpenAI-compatible
// POST /v1/embeddings protocol, spoken by OpenAI, Azure-style gateways,
// Ollama, vLLM, LM Studio and llama.cpp's server.
//
// Texts are sent in batches; each request has its own timeout and is retried
// (openaihttp) with exponential backoff and jitter on 429, 5xx and transport
// timeouts only, a 429's Retry-After honoured up to the backoff's ceiling — a
// 400 is the caller's fault and retrying cannot help. The
// vector dimension is learned from the first answer (or fixed by config) and
// every later answer must match it: a server that silently switched models
// would otherwise mix incomparable vectors in one index, a frequent mem0 bug.
// A mismatch is refused with an error naming `engram reindex`.
package openaiembed
