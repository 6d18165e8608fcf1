package openaiembed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
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
	Dimensions int // 0: learn from the first answer; else ask for it and require it
	BatchSize  int // texts per request; 0 means 64
	Timeout    time.Duration
	MaxRetries int // 0 means 3; negative disables retries
	BaseDelay  time.Duration
	MaxDelay   time.Duration
	HTTPClient *http.Client
}

// Embedder calls an OpenAI-compatible embeddings endpoint.
type Embedder struct {
	cfg  Config
	http *openaihttp.Client

	mu  sync.Mutex
	dim int
}

var _ ports.Embedder = (*Embedder)(nil)

// New validates cfg and fills defaults. It makes no request.
func New(cfg Config) (*Embedder, error) {
	base, err := openaihttp.CheckBaseURL("embedder.base_url", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = base
	if cfg.Model == "" {
		return nil, domain.Invalid("embedder.model", "must be set")
	}
	if cfg.Dimensions < 0 {
		return nil, domain.Invalid("embedder.dimensions", "must not be negative")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 64
	}
	hc := openaihttp.New(openaihttp.Config{BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Timeout: cfg.Timeout,
		MaxRetries: cfg.MaxRetries, BaseDelay: cfg.BaseDelay, MaxDelay: cfg.MaxDelay, HTTPClient: cfg.HTTPClient},
		openaihttp.Defaults{Timeout: 30 * time.Second, MaxRetries: 3, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second},
		openaihttp.Endpoint{Name: "embeddings", Path: "/embeddings", MaxAnswer: 256 << 20})
	return &Embedder{cfg: cfg, http: hc, dim: cfg.Dimensions}, nil
}

// Model is the configured model name.
func (e *Embedder) Model() string { return e.cfg.Model }

// Dimension is the configured or learned dimension, 0 before the first answer.
func (e *Embedder) Dimension() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dim
}

// Embed sends texts in batches and returns unit-length vectors in order.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.cfg.BatchSize {
		batch := texts[start:min(start+e.cfg.BatchSize, len(texts))]
		vs, err := e.call(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("openaiembed: embed %d texts with %s: %w", len(batch), e.cfg.Model, mapErr(err))
		}
		if err := e.checkDimension(vs); err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// checkDimension learns the dimension from the first answer and refuses any
// later answer of another length.
func (e *Embedder) checkDimension(vs [][]float32) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range vs {
		if e.dim == 0 {
			e.dim = len(v)
		}
		if len(v) != e.dim {
			return fmt.Errorf("openaiembed: model %s answered %d dimensions where %d are expected; the embedding model changed — run `engram reindex` after changing models: %w",
				e.cfg.Model, len(v), e.dim, domain.ErrConflict)
		}
		normalize(v)
	}
	return nil
}

func normalize(v []float32) {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
}

// mapErr turns a final failure into a domain error kind. Context errors stay
// as they are so callers can tell a cancelled request from a dead backend.
func mapErr(err error) error {
	var se *openaihttp.StatusError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &se) && se.Code == http.StatusBadRequest:
		return fmt.Errorf("%w: %v", domain.ErrInvalid, err)
	case errors.Is(err, domain.ErrConflict), errors.Is(err, domain.ErrInvalid):
		return err
	}
	return &domain.UnavailableError{Dependency: "embedder", Err: err}
}
