package wiring

import (
	"github.com/engram-memory/engram/adapters/openaichat"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
	"github.com/engram-memory/engram/ports/intercept"
)

// llmName is the LLM's dependency name: its metrics label and breaker.
const llmName = "llm"

// NewLLM builds the undecorated chat model cfg names, or nil when no
// ENGRAM_LLM_URL is set (inference then stores texts as given).
func NewLLM(cfg config.Config) (ports.LLM, error) {
	if cfg.LLMURL == "" {
		return nil, nil
	}
	return openaichat.New(openaichat.Config{BaseURL: cfg.LLMURL, APIKey: cfg.LLMAPIKey, Model: cfg.LLMModel,
		Timeout: cfg.LLMTimeout, MaxTokens: cfg.LLMMaxTokens})
}

// llm decorates the chat model like every remote dependency: telemetry
// outside a breaker and an overall deadline, without retries of its own
// (openaichat retries 429, 5xx and timeouts itself).
func (d *decorator) llm(l ports.LLM) ports.LLM {
	if l == nil {
		return nil
	}
	return intercept.WrapLLM(l, llmName, d.interceptor(llmName, kindLLM))
}
