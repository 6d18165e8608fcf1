package openaihttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"

	"github.com/engram-memory/engram/domain"
)

// Config locates the server and shapes the calls. Zero fields take the
// caller's Defaults.
type Config struct {
	BaseURL    string // up to and including /v1
	APIKey     string // sent as a Bearer token when set; never logged
	Timeout    time.Duration
	MaxRetries int // 0 means Defaults.MaxRetries; negative disables retries
	BaseDelay  time.Duration
	MaxDelay   time.Duration // below BaseDelay means max(Defaults.MaxDelay, BaseDelay)
	HTTPClient *http.Client
}

// Defaults are each protocol's own: a chat answer takes longer than an
// embedding.
type Defaults struct {
	Timeout    time.Duration
	MaxRetries int
	BaseDelay  time.Duration
	MaxDelay   time.Duration
}

// Endpoint is one POST route of an OpenAI-compatible server.
type Endpoint struct {
	Name      string // names the endpoint in errors, e.g. "embeddings"
	Path      string // after the base URL, e.g. "/embeddings"
	MaxAnswer int64  // bytes of an answer read at most
}

// Client posts to one endpoint with retries.
type Client struct {
	cfg   Config
	ep    Endpoint
	retry retrypolicy.RetryPolicy[[]byte]
}

// CheckBaseURL trims trailing slashes and requires an http(s) URL; field
// names the setting in the error.
func CheckBaseURL(field, baseURL string) (string, error) {
	baseURL = strings.TrimRight(baseURL, "/")
	if !strings.HasPrefix(baseURL, "http://") && !strings.HasPrefix(baseURL, "https://") {
		return "", domain.Invalid(field, "must be an http(s) URL ending in /v1")
	}
	return baseURL, nil
}

// New fills cfg's zero fields from d. It makes no request.
func New(cfg Config, d Defaults, ep Endpoint) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = d.Timeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = d.MaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = d.BaseDelay
	}
	if cfg.MaxDelay < cfg.BaseDelay {
		cfg.MaxDelay = max(d.MaxDelay, cfg.BaseDelay)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	maxDelay := cfg.MaxDelay
	rp := retrypolicy.NewBuilder[[]byte]().
		HandleIf(func(_ []byte, err error) bool { return retryable(err) }).
		WithMaxRetries(cfg.MaxRetries).
		WithBackoff(cfg.BaseDelay, cfg.MaxDelay).
		WithDelayFunc(func(exec failsafe.ExecutionAttempt[[]byte]) time.Duration {
			// A 429's Retry-After is the server's own schedule; follow it
			// unless it asks for more than we would ever wait.
			var se *StatusError
			if errors.As(exec.LastError(), &se) && se.RetryAfter > 0 {
				return min(se.RetryAfter, maxDelay)
			}
			return -1 // the backoff
		}).
		WithJitterFactor(0.25).
		ReturnLastFailure().
		Build()
	return &Client{cfg: cfg, ep: ep, retry: rp}
}

// Post sends body and returns the 2xx answer's bytes, retrying what may
// succeed when asked again. The final failure is a *StatusError, an attempt
// timeout, a transport error or the context's error.
func (c *Client) Post(ctx context.Context, body []byte) ([]byte, error) {
	return failsafe.With[[]byte](c.retry).WithContext(ctx).Get(func() ([]byte, error) {
		return c.call(ctx, body)
	})
}

// StatusError is a non-2xx answer. 429 and 5xx are retried.
type StatusError struct {
	Endpoint   string
	Code       int
	RetryAfter time.Duration // the answer's Retry-After; 0 when absent
	Body       string        // the start of the answer, for the operator
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s endpoint answered %d: %s", e.Endpoint, e.Code, e.Body)
}

// errAttemptTimeout is a per-attempt deadline (not the caller's) expiring.
var errAttemptTimeout = errors.New("request timed out")

func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusTooManyRequests || se.Code >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, errAttemptTimeout)
}

// call makes one request with its own deadline.
func (c *Client) call(ctx context.Context, body []byte) ([]byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	timedOut := func(err error) error {
		if ctx.Err() == nil && actx.Err() != nil {
			return fmt.Errorf("%s %w after %s", c.ep.Name, errAttemptTimeout, c.cfg.Timeout)
		}
		return err
	}
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.cfg.BaseURL+c.ep.Path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, timedOut(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.ep.MaxAnswer))
	if err != nil {
		return nil, timedOut(err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &StatusError{Endpoint: c.ep.Name, Code: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After")),
			Body: string(bytes.TrimSpace(raw[:min(len(raw), 512)]))}
	}
	return raw, nil
}

// retryAfter parses delay-seconds or an HTTP date; 0 when absent or bad.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
