package openaichat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/engram-memory/engram/adapters/openaihttp"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Config locates the server and shapes the calls.
type Config struct {
	BaseURL    string // up to and including /v1, e.g. http://127.0.0.1:11434/v1
	APIKey     string // sent as a Bearer token when set; never logged
	Model      string
	MaxTokens  int // default bound of an answer; 0 means 1024
	Timeout    time.Duration
	MaxRetries int // 0 means 2; negative disables retries
	BaseDelay  time.Duration
	MaxDelay   time.Duration
	HTTPClient *http.Client
}

// Client calls an OpenAI-compatible chat completions endpoint.
type Client struct {
	cfg  Config
	http *openaihttp.Client
}

var _ ports.LLM = (*Client)(nil)

// New validates cfg and fills defaults. It makes no request.
func New(cfg Config) (*Client, error) {
	base, err := openaihttp.CheckBaseURL("llm.base_url", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = base
	if cfg.Model == "" {
		return nil, domain.Invalid("llm.model", "must be set")
	}
	if cfg.MaxTokens < 0 {
		return nil, domain.Invalid("llm.max_tokens", "must not be negative")
	}
	if cfg.MaxTokens == 0 {
		cfg.MaxTokens = 1024
	}
	hc := openaihttp.New(openaihttp.Config{BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Timeout: cfg.Timeout,
		MaxRetries: cfg.MaxRetries, BaseDelay: cfg.BaseDelay, MaxDelay: cfg.MaxDelay, HTTPClient: cfg.HTTPClient},
		openaihttp.Defaults{Timeout: 60 * time.Second, MaxRetries: 2, BaseDelay: 500 * time.Millisecond, MaxDelay: 10 * time.Second},
		openaihttp.Endpoint{Name: "chat completions", Path: "/chat/completions", MaxAnswer: 4 << 20})
	return &Client{cfg: cfg, http: hc}, nil
}

// Model is the configured model name.
func (c *Client) Model() string { return c.cfg.Model }

// Chat sends req and returns the answer's JSON document.
func (c *Client) Chat(ctx context.Context, req ports.ChatRequest) (json.RawMessage, error) {
	if len(req.Messages) == 0 || len(req.Schema) == 0 || req.SchemaName == "" {
		return nil, fmt.Errorf("openaichat: chat: %w", domain.Invalid("request", "needs messages, a schema and its name"))
	}
	body, err := c.encode(req)
	if err != nil {
		return nil, fmt.Errorf("openaichat: chat: %w", err)
	}
	raw, err := c.http.Post(ctx, body)
	var out json.RawMessage
	if err == nil {
		out, err = decode(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("openaichat: chat with %s: %w", c.cfg.Model, mapErr(err))
	}
	return out, nil
}

// mapErr turns a final failure into a domain error kind. Context errors stay
// as they are so callers can tell a cancelled request from a dead backend.
func mapErr(err error) error {
	var se *openaihttp.StatusError
	var ae *answerError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &ae):
		return fmt.Errorf("%w: %v", domain.ErrInvalid, err)
	case errors.As(err, &se) && se.Code == http.StatusBadRequest:
		return fmt.Errorf("%w: %v", domain.ErrInvalid, err)
	case errors.As(err, &se) && se.Code == http.StatusTooManyRequests:
		return &domain.UnavailableError{Dependency: "llm", RetryAfter: int((se.RetryAfter + time.Second - 1) / time.Second), Err: err}
	}
	return &domain.UnavailableError{Dependency: "llm", Err: err}
}
