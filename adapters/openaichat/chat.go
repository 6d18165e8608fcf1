package openaichat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"

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
	cfg   Config
	retry retrypolicy.RetryPolicy[json.RawMessage]
}

var _ ports.LLM = (*Client)(nil)

// New validates cfg and fills defaults. It makes no request.
func New(cfg Config) (*Client, error) {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, domain.Invalid("llm.base_url", "must be an http(s) URL ending in /v1")
	}
	if cfg.Model == "" {
		return nil, domain.Invalid("llm.model", "must be set")
	}
	if cfg.MaxTokens < 0 {
		return nil, domain.Invalid("llm.max_tokens", "must not be negative")
	}
	if cfg.MaxTokens == 0 {
		cfg.MaxTokens = 1024
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = 2
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = 500 * time.Millisecond
	}
	if cfg.MaxDelay < cfg.BaseDelay {
		cfg.MaxDelay = max(10*time.Second, cfg.BaseDelay)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	maxDelay := cfg.MaxDelay
	rp := retrypolicy.NewBuilder[json.RawMessage]().
		HandleIf(func(_ json.RawMessage, err error) bool { return retryable(err) }).
		WithMaxRetries(cfg.MaxRetries).
		WithBackoff(cfg.BaseDelay, cfg.MaxDelay).
		WithDelayFunc(func(exec failsafe.ExecutionAttempt[json.RawMessage]) time.Duration {
			// A 429's Retry-After is the server's own schedule; follow it
			// unless it asks for more than we would ever wait.
			var se *statusError
			if errors.As(exec.LastError(), &se) && se.retryAfter > 0 {
				return min(se.retryAfter, maxDelay)
			}
			return -1 // the backoff
		}).
		WithJitterFactor(0.25).
		ReturnLastFailure().
		Build()
	return &Client{cfg: cfg, retry: rp}, nil
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
	out, err := failsafe.With[json.RawMessage](c.retry).WithContext(ctx).Get(func() (json.RawMessage, error) {
		return c.call(ctx, body)
	})
	if err != nil {
		return nil, fmt.Errorf("openaichat: chat with %s: %w", c.cfg.Model, mapErr(err))
	}
	return out, nil
}

// mapErr turns a final failure into a domain error kind. Context errors stay
// as they are so callers can tell a cancelled request from a dead backend.
func mapErr(err error) error {
	var se *statusError
	var ae *answerError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &ae):
		return fmt.Errorf("%w: %v", domain.ErrInvalid, err)
	case errors.As(err, &se) && se.code == http.StatusBadRequest:
		return fmt.Errorf("%w: %v", domain.ErrInvalid, err)
	case errors.As(err, &se) && se.code == http.StatusTooManyRequests:
		return &domain.UnavailableError{Dependency: "llm", RetryAfter: int((se.retryAfter + time.Second - 1) / time.Second), Err: err}
	}
	return &domain.UnavailableError{Dependency: "llm", Err: err}
}
